"""The exchange: matching engine, accounts, sequencer, market data."""
