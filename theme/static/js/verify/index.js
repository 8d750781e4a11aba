// The in-browser verifier: public entry points. See docs/verifier-js.md.
export { verifyTask, makeFetcher, FetchError } from './site.js';
export { recompute, outcomeDocument, compareWithLock, ticketOf, DrawError } from './draw.js';
export { verifyBeacon, parseBeacon, QUICKNET } from './beacon.js';
export { openNote, parseVerifierKey } from './note.js';
export { parseCheckpoint } from './checkpoint.js';
export { verifyInclusion, verifyConsistency } from './merkle.js';
export { FormatError, IntegrityError, VerifyError } from './errors.js';
