"""Article text used by several integration tests (invented, news style)."""

LEADER_STORY = (
    "President Elena Marsh of Valdoria said on Tuesday that the river treaty would be signed "
    "within weeks.\n\n"
    "\u201cThis agreement protects farmers on both banks,\u201d Marsh told reporters in Lenholm.\n\n"
    "\"We will not accept delays,\" she added.\n\n"
    "Opposition leader Karl Brenner said the deal was rushed."
)


def long_article(chars: int) -> str:
    """News-like paragraphs (names, places, numbers, quotes), varied, up to `chars` characters."""
    import random

    rng = random.Random(7)
    people = ["Anna Holt", "Marco Ruiz", "Lena Sato", "Omar Haddad", "Grace Okafor", "Piet de Vries"]
    places = ["Lenholm", "the northern valley", "Port Aster", "the capital", "Brightwater"]
    things = ["the bridge", "the budget", "the new rail line", "water prices", "the harbour works"]
    paragraphs, total = [], 0
    while total < chars:
        who, where, what = rng.choice(people), rng.choice(places), rng.choice(things)
        n = rng.randint(2, 900)
        sentences = [f"Officials in {where} said {what} would cost {n} million over {n % 9 + 2} years.",
                     f"\u201cWe cannot wait any longer for {what},\u201d {who} told reporters on day {n}.",
                     f"Residents of {where} have complained about {what} since {1990 + n % 35}.",
                     f"{who} said the plan for {where} was discussed with {rng.choice(people)}."]
        rng.shuffle(sentences)
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:chars]
