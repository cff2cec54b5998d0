"""The ledger: the single source of truth for where every form is (database models, states, queries)."""
