"""Statement identity across outlets: does one statement keep one ``statement_id``?

Each family below is one statement as several outlets print it, rewritten the ways
outlets rewrite: the attribution phrasing (``said`` / ``told reporters`` / ``said in
a statement`` / ``according to``), the quote-mark style (straight, curly, ``''``),
the speaker as full name, surname, title or pronoun, a wire dateline, and one
outlet carrying a sentence more of the same quote. ``identity_report`` extracts every
variant and counts the families whose variants all give the statement one id, and
the share of variant pairs that agree. The texts were written for this measure;
they are not tuned on PolNeAR.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterable

from transforms.statement_identity import fold

DATE = "2025-01-28"


@dataclass(frozen=True)
class Family:
    """One statement: ``marker`` (words that start it) and the outlets' texts."""

    name: str
    marker: str
    variants: tuple[str, ...]


FAMILIES: tuple[Family, ...] = (
    Family("particle name, pronoun, title", "our mission is not over", (
        'THE HAGUE (Reuters) - Dutch Defence Minister Ruben van der Meer said on Tuesday the '
        'country would keep its troops in the region.\n\n"Our mission is not over," van der Meer said.',
        "Ruben van der Meer, the Dutch defence minister, spoke in parliament on Tuesday.\n\n"
        "\u201cOur mission is not over,\u201d he told parliament. \u201cWe will stay as long as we are needed.\u201d",
        "The Netherlands will keep its troops abroad. Defence Minister Ruben van der Meer told lawmakers: "
        "''Our mission is not over.''",
        'AMSTERDAM, Jan 28 (AFP) - "Our mission is not over," Dutch Defence Minister Ruben van der Meer '
        "said on Tuesday.",
    )),
    Family("possessive appositive, surname", "the people must decide", (
        'MADRID (AFP) - Spanish Prime Minister Pedro Sanchez on Tuesday called for new elections. '
        '"The people must decide," he said.',
        "Pedro Sanchez, Spain's prime minister, called for new elections on Tuesday.\n\n"
        "\u201cThe people must decide,\u201d Sanchez told reporters in Madrid.",
        "Spain's prime minister, Pedro Sanchez, said: \u201cThe people must decide. I will not cling "
        "to power.\u201d",
        "Spain is heading for new elections.\n\nPrime Minister Pedro Sanchez said the vote would be held "
        'in spring. "The people must decide," Sanchez said.',
    )),
    Family("organisation, it said", "we have found no evidence", (
        "Acme Corp rejected the claims on Monday.\n\n"
        '"We have found no evidence of wrongdoing," the company said in a statement.',
        '"We have found no evidence of wrongdoing," Acme Corp said in a statement on Monday.',
        "Acme Corp said on Monday it would cooperate with regulators. "
        "\u201cWe have found no evidence of wrongdoing,\u201d it said.",
        "NEW YORK (AP) \u2014 Acme Corp denied the allegations.\n\n\u201cWe have found no evidence of "
        "wrongdoing. We will cooperate fully with the authorities,\u201d the company said.",
    )),
    Family("international body head, title", "the outlook has darkened", (
        'WASHINGTON (Reuters) - The head of the International Monetary Fund, Kristalina Georgieva, '
        'warned on Tuesday of slower growth. "The outlook has darkened," Georgieva told reporters.',
        "IMF Managing Director Kristalina Georgieva said: \u201cThe outlook has darkened. Inflation is "
        "more persistent than we thought.\u201d",
        "Kristalina Georgieva, the IMF chief, spoke in Washington.\n\n''The outlook has darkened,'' "
        "she said.",
        "\u201cThe outlook has darkened,\u201d IMF chief Kristalina Georgieva said on Tuesday.",
    )),
    Family("name vs surname vs title", "we will answer these tariffs", (
        "Canadian Prime Minister Mark Carney spoke in Ottawa on Monday.\n\n"
        '"We will answer these tariffs within days," Carney said.',
        "\u201cWe will answer these tariffs within days,\u201d said Mark Carney, Canada's prime minister.",
        "OTTAWA (Reuters) - Canada's Prime Minister Mark Carney vowed retaliation.\n\n"
        "\u201cWe will answer these tariffs within days,\u201d the prime minister said.",
        'Mark Carney said on Monday: "We will answer these tariffs within days. Canada will not be '
        'bullied."',
    )),
    Family("de la, reported vs direct lead", "the budget is balanced", (
        "Finance Minister Maria de la Cruz presented the budget on Monday.\n\n"
        '"The budget is balanced," de la Cruz said.',
        "Maria de la Cruz, the finance minister, told parliament: \u201cThe budget is balanced.\u201d",
        '"The budget is balanced," Finance Minister Maria de la Cruz said, adding that taxes would not rise.',
        "MANILA (AFP) - \u201cThe budget is balanced. Taxes will not rise,\u201d Finance Minister Maria "
        "de la Cruz said on Monday.",
    )),
    Family("al- name, according to", "there will be no escalation", (
        "Egyptian President Abdel Fattah al-Sisi met envoys in Cairo.\n\n"
        '"There will be no escalation," al-Sisi said.',
        "CAIRO (AP) \u2014 \u201cThere will be no escalation,\u201d President Abdel Fattah al-Sisi said "
        "on Tuesday.",
        "Egypt's president, Abdel Fattah al-Sisi, spoke after the meeting. \u201cThere will be no "
        "escalation,\u201d he said.",
        '"There will be no escalation," Sisi told the envoys, according to his office.',
    )),
    Family("continuing quote paragraph", "this attack was cowardly", (
        "Opposition leader Kemi Badenoch condemned the attack.\n\n"
        '"This attack was cowardly," Badenoch said. "Our thoughts are with the victims."',
        '"This attack was cowardly," Kemi Badenoch said.\n\n"Our thoughts are with the victims."',
        "LONDON (Reuters) - Kemi Badenoch, the leader of the opposition, said: \u201cThis attack was "
        "cowardly.\u201d",
        "Conservative leader Kemi Badenoch spoke on Monday. She said: ''This attack was cowardly.''",
    )),
)


@dataclass
class IdentityReport:
    families: int = 0
    kept: int = 0  # families whose outlets all give one id
    pairs: int = 0
    pairs_kept: int = 0
    missing: int = 0  # variants where the statement was not found at all
    failures: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.kept / self.families if self.families else 0.0

    @property
    def pair_share(self) -> float:
        return self.pairs_kept / self.pairs if self.pairs else 0.0

    def as_dict(self) -> dict:
        return {"families": self.families, "kept_one_id": self.kept, "share": round(self.share, 4),
                "variant_pairs": self.pairs, "pairs_same_id": self.pairs_kept,
                "pair_share": round(self.pair_share, 4), "variants_without_the_quote": self.missing,
                "failures": self.failures}

    def format(self) -> str:
        lines = [f"statement identity across outlets: {self.kept}/{self.families} statements keep one "
                 f"statement_id ({self.share:.3f}); variant pairs with the same id {self.pairs_kept}/"
                 f"{self.pairs} ({self.pair_share:.3f}); variants where the quote was not found: "
                 f"{self.missing}"]
        lines += [f"  differs: {f}" for f in self.failures]
        return "\n".join(lines)


def _id_of(quotes: Iterable, marker: str) -> str | None:
    for quote in quotes:
        if marker in " ".join(fold(quote.text).replace(",", " ").split()):
            return quote.statement_id
    return None


def identity_report(nlp=None, families: tuple[Family, ...] = FAMILIES) -> IdentityReport:
    """Extract every variant of every family and count the statements that keep one id."""
    from transforms.extract import extract_documents

    docs = [(f"{k}:{v}", text, DATE) for k, family in enumerate(families)
            for v, text in enumerate(family.variants)]
    results = {r.id: r for r in extract_documents(docs, nlp=nlp)}
    report = IdentityReport()
    for k, family in enumerate(families):
        ids = [_id_of(results[f"{k}:{v}"].quotes, family.marker) for v in range(len(family.variants))]
        report.families += 1
        report.missing += sum(i is None for i in ids)
        agree = [a == b and a is not None for a, b in combinations(ids, 2)]
        report.pairs += len(agree)
        report.pairs_kept += sum(agree)
        if all(agree):
            report.kept += 1
        else:
            report.failures.append(f"{family.name}: {len(set(ids))} ids over {len(ids)} outlets")
    return report
