/**
 * The parse option that gives zod/mini's errors their English messages. zod/mini loads no locale (every
 * message is "Invalid input") and classic zod, which set English globally, costs each process MiBs; so the
 * parses whose messages reach a user, a wire reply or a log pass this instead of configuring zod globally.
 * `en` is imported by name: going through `z.locales` keeps every locale in a bundle (~265 KB).
 * @example const r = schema.safeParse(input, ENGLISH);
 */
import { en } from "zod/locales";

/** Pass as the second argument of `safeParse` / `z.safeParse(schema, value, ENGLISH)`. */
export const ENGLISH = { error: en().localeError };
