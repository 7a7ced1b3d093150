"""Rules: the registry of rule metadata, and one module per rule family."""

from scopeaudit.rules.registry import REGISTRY, Rule, all_rules, get_rule

__all__ = ["REGISTRY", "Rule", "all_rules", "get_rule"]
