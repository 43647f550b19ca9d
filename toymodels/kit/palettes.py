"""Colours that more than one section draws with, so that the same thing has the same colour in every chapter."""

# The phases of the n = 2 and n = 3 phase-change models (chapter 3's names; chapter 10 draws the n = 2 phases of
# every nonlinearity with them): what happens to the extra feature.
PHASE_COLORS = {
    "extra_ignored": "#b0b0b0",
    "perp_001": "#b0b0b0",  # extra feature not learned: grey
    "regular_ignored": "#2166ac",
    "perp_100": "#2166ac",  # extra feature gets its own dimension: blue
    "perp_110": "#67a9cf",  # extra dedicated, the two regular features antipodal: light blue
    "antipodal": "#b2182b",
    "perp_011": "#b2182b",  # extra feature in superposition: red
    "confused": "#7b3294",  # both features on one same-sign direction: purple
}
