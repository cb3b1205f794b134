"""Healing Pixels: accessible, multilingual health-education websites from Markdown."""
