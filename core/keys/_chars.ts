/**
 * Character classes of the reference key grammar (at_commons key regexes). Private to core/keys.
 *
 * Emoji: ©, ®, U+2000-U+3300, variation selectors and the astral pictographs U+1F000-U+1FBFF (what the
 * reference spells as surrogate pairs starting D83C/D83D/D83E). Use with the `u` flag.
 */
export const EMOJI_CLASS = String.raw`\u00a9\u00ae\u2000-\u3300\ufe00-\ufe0f\u{1f000}-\u{1fbff}`;

/** An @sign body inside a larger pattern: word characters, `-` or emoji, 1 to 55. */
export const ATSIGN_BODY_PATTERN = String.raw`[\w\-${EMOJI_CLASS}]{1,55}`;
