"""Article text used by several integration tests (invented, news style)."""

LEADER_STORY = (
    "President Elena Marsh of Valdoria said on Tuesday that the river treaty would be signed "
    "within weeks.\n\n"
    "\u201cThis agreement protects farmers on both banks,\u201d Marsh told reporters in Lenholm.\n\n"
    "\"We will not accept delays,\" she added.\n\n"
    "Opposition leader Karl Brenner said the deal was rushed."
)
