"""Contact-center numbers: KPIs, repeat contacts, callbacks, triggers, survey bias."""
