"""Pipeline stages over the database: transcribe, tag, themes, retrain, nightly."""
