"""Seeded synthetic demo data for callqa: a small contact center's calls, surveys and recordings."""
