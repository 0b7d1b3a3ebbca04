"""The gacha slice."""
