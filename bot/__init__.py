"""Hebdo: news bulletins in, weekly digests out, over Telegram."""
