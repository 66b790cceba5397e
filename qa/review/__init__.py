"""What a reviewer sees and hears: recordings confined and redacted for playback."""
