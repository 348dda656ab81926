"""Journal schema migrations: ``MIGRATIONS[i]`` takes the database from version ``i`` to ``i + 1``.

Never edit a released migration; append a new one. Wei amounts are stored as decimal TEXT (they can
exceed SQLite's 64-bit integers); raw signed transactions as BLOB.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cycles (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        mode TEXT NOT NULL,
        status TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        cycle_id INTEGER REFERENCES cycles(id),
        created_at TEXT NOT NULL,
        plan_id TEXT,
        rebalance INTEGER NOT NULL,
        reasons TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL,
        mode TEXT NOT NULL,
        cycle_id INTEGER REFERENCES cycles(id),
        plan_id TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        chain TEXT NOT NULL,
        kind TEXT NOT NULL,
        intent TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        result TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX actions_live_key ON actions (idempotency_key) WHERE mode = 'live';
    CREATE TABLE tx_attempts (
        id INTEGER PRIMARY KEY,
        action_id INTEGER REFERENCES actions(id),
        purpose TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        sender TEXT NOT NULL,
        nonce INTEGER NOT NULL,
        tx_hash TEXT NOT NULL UNIQUE,
        raw_tx BLOB NOT NULL,
        max_fee_per_gas_wei TEXT NOT NULL,
        max_priority_fee_per_gas_wei TEXT NOT NULL,
        broadcast TEXT NOT NULL,
        status TEXT NOT NULL,
        sent_block INTEGER,
        replaces INTEGER REFERENCES tx_attempts(id),
        block_number INTEGER,
        gas_used INTEGER,
        effective_gas_price_wei TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX tx_attempts_nonce ON tx_attempts (chain_id, sender, nonce);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        cycle_id INTEGER REFERENCES cycles(id),
        action_id INTEGER REFERENCES actions(id),
        detail TEXT NOT NULL
    )
    """,
    # 2: plans waiting for a person's approval (APPROVAL=manual|above:USD), decided by `approve`/`reject`
    """
    CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        cycle_id INTEGER REFERENCES cycles(id),
        plan_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status TEXT NOT NULL,
        total_usd TEXT NOT NULL,
        detail TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX approvals_fingerprint ON approvals (fingerprint, status)
    """,
    # 3: each chain's genesis (block 0) hash, recorded when the journal first sees the chain (#14 item 5)
    """
    CREATE TABLE chain_genesis (
        chain_id INTEGER PRIMARY KEY,
        chain TEXT NOT NULL,
        genesis_hash TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    )
    """,
)
