"""The guild_settings slice."""
