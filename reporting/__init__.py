"""The per-batch report: what the ledger says a batch did, and the hours it saved against keying by hand."""
