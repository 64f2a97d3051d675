/** The error of the .atKeys codecs: it names the file, the problem and, where there is one, the fix. */
export class AtKeysFileError extends Error {
  override readonly name: string = "AtKeysFileError";
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** A passphrase-protected file was read without a way to get its passphrase. */
export class AtKeysPassphraseRequired extends AtKeysFileError {
  override readonly name = "AtKeysPassphraseRequired";
}
