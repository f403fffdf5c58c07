"""Event pipeline handlers under moto."""
