/** Vite's `?raw` imports: a file's text, byte for byte (the client fixtures). */
declare module "*?raw" {
  const text: string;
  export default text;
}
