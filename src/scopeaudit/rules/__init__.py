"""Rules: one module per rule family, each rule declared beside its check; the registry
(``rules.registry``) collects them."""
