"""``qa demo --no-serve`` end to end with the real models, then the why in money on its
database: the money line of the demo's costly tag (``re-explain``, tagged by the pipeline
from comments and transcripts) is within 10 % of the generator's built-in cost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from qa.cli import app
from qa.demo.generate import build_calls
from qa.demo.workforce import built_in_cost
from qa.store.engine import make_engine
from qa.why.money import cost_of_drivers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The database ``qa demo --no-serve`` builds (transcribe, tag, KPIs, workforce, cost)."""
    folder = tmp_path_factory.mktemp("demo") / ".demo"
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "What the drivers cost (qa why --outcome cost):" in result.output
    engine = make_engine(str(folder / "callqa.db"))
    try:
        yield engine
    finally:
        engine.dispose()


def test_money_line_of_the_costly_tag_with_the_pipelines_tags(demo_engine: Engine) -> None:
    with Session(demo_engine) as session:
        lines, prices = cost_of_drivers(session)
    line = {m.tag: m for m in lines}["re-explain"]
    assert line.cost == pytest.approx(built_in_cost(build_calls()), rel=0.10)
    # Its cost is the extra handle time; the tag's rate is corrected for its recall.
    assert line.handle_effect_seconds is not None and line.repeat_effect is None
    assert line.extra_agent_hours * prices.cost_per_agent_hour == pytest.approx(line.cost)
    assert "tagged among the" in line.line and "recall 0.70 assumed" in line.line
    # An extra repeat call is priced at its handle time, not at the (idle-inflated) cost per call.
    assert prices.cost_per_extra_call is not None and prices.cost_per_call is not None
    assert prices.cost_per_extra_call < prices.cost_per_call / 10
    assert all("cost per call" not in m.line for m in lines)
