"""The vendor's economies of scale: one vendor pool serving 1, 2, ... N clients like ours, each
staffed by the optimiser to every client's target, and what an agent-minute then costs the vendor
(docs/pooling.md)."""
