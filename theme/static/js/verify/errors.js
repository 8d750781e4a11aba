// Errors of the verifier. Every message names what was expected and what was found.
//
// FormatError:    input that does not parse, or is not in its one canonical form.
// IntegrityError: input that parses but does not hold (a hash, a signature, a proof, a recomputation):
//                 tamper evidence.

export class VerifyError extends Error {
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}

export class FormatError extends VerifyError {}

export class IntegrityError extends VerifyError {}
