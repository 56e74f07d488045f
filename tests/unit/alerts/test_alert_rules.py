from connectors.alerts.config import AlertRule
from connectors.alerts.rules import contains_phrase, matching_rules, tokens

STATEMENT = {
    "speaker_name": "Luiz Inácio Lula da Silva",
    "speaker_role": "President of Brazil",
    "speaker_country": "BR",
    "text": "We will not accept tariffs on Brazilian steel.",
    "confidence": 0.82,
    "is_leadership": True,
}


def rule(name="r", **kw):
    return AlertRule(name=name, sinks=["s"], **kw)


def test_tokens_fold_case_and_accents():
    assert tokens("Luiz INÁCIO  Lula") == ("luiz", "inacio", "lula")
    assert tokens(None) == ()


def test_contains_phrase_needs_whole_consecutive_tokens():
    hay = tokens("Li Qiang said")
    assert contains_phrase(hay, tokens("li qiang"))
    assert not contains_phrase(tokens("Lin Jian"), tokens("Li"))
    assert not contains_phrase(hay, tokens("qiang li"))
    assert not contains_phrase(hay, ())


def test_empty_rule_matches_any_leadership_statement():
    assert matching_rules(STATEMENT, [rule()]) == ["r"]
    assert matching_rules({**STATEMENT, "is_leadership": False}, [rule()]) == []


def test_leader_alias_is_case_and_accent_insensitive():
    assert matching_rules(STATEMENT, [rule(leaders=["lula"])]) == ["r"]
    assert matching_rules(STATEMENT, [rule(leaders=["Luiz Inacio Lula da Silva"])]) == ["r"]
    assert matching_rules(STATEMENT, [rule(leaders=["Bolsonaro", "Lula"])]) == ["r"]
    assert matching_rules(STATEMENT, [rule(leaders=["Silva Lula"])]) == []


def test_roles_countries_keywords_and_confidence_all_must_hold():
    full = rule(roles=["president"], countries=["br"], keywords=["tariffs"], min_confidence=0.8)
    assert matching_rules(STATEMENT, [full]) == ["r"]
    assert matching_rules({**STATEMENT, "confidence": 0.79}, [full]) == []
    assert matching_rules({**STATEMENT, "speaker_role": "Prime Minister"}, [full]) == []
    assert matching_rules({**STATEMENT, "text": "No comment."}, [full]) == []


def test_country_compares_whole_value_not_prefix():
    assert matching_rules({**STATEMENT, "speaker_country": "Nigeria"}, [rule(countries=["Niger"])]) == []
    assert matching_rules({**STATEMENT, "speaker_country": "Niger"}, [rule(countries=["niger"])]) == ["r"]


def test_keyword_does_not_match_inside_words():
    assert matching_rules({**STATEMENT, "text": "She won an award."}, [rule(keywords=["war"])]) == []


def test_returns_every_matching_rule_in_config_order():
    rules = [rule("b", keywords=["steel"]), rule("a", leaders=["Macron"]), rule("c", roles=["president"])]
    assert matching_rules(STATEMENT, rules) == ["b", "c"]
