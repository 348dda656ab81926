"""ERC-4626 parking: idle hub stablecoins above the buffer earn in the best allow-listed vault.

* ``adapter``  — batched vault reads (``fetch_vault_states``) and unsigned intents (deposit, withdraw, redeem)
* ``yields``   — share-price samples → measured yield and loss (pure)
* ``samples``  — samples and vault flags kept in the journal
* ``policy``   — ``plan_parking``: deposits, buffer refills and exits, with a reason per decision (pure)
* ``routing``  — ``route_withdrawals``: fit a plan's withdrawals to the vaults' limits (pure)
* ``service``  — what the agent loop calls: ``park_idle_stables``, ``adapt_plan_to_vault_limits``,
  ``execute_vault_action``
* ``report``   — per-vault rows for ``status`` (position, share price, measured yield, flag)

See docs/vaults.md.
"""
