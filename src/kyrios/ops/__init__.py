"""Operations: metrics, logging, backups."""
