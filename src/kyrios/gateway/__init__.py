"""The discord.py shell: the only package (with the slices' cog modules) that imports discord."""
