// The generated fetch client names the DOM lib's `BodyInit`; this project compiles without the DOM lib, and Node's
// fetch (undici) defines the same type.
type BodyInit = import('undici-types').BodyInit;
