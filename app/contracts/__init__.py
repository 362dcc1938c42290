"""Rule contracts: versioned JSON documents that pay, collect and settle (docs/contracts.md).

`jsonlogic` is the condition language; the rest of the package validates documents, builds the
read-only book views a condition may read, and runs contracts on ledger events.
"""
