/** The part of seek-bzip (no types of its own) that the tests use. */
declare module 'seek-bzip' {
  const Bunzip: { decode(input: Buffer): Buffer };
  export default Bunzip;
}
