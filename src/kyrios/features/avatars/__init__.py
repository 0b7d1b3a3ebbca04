"""The avatars slice: avatar, banner and per-server avatar history."""
