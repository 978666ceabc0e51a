// node-red-node-test-helper ships no types, and the community ones reject most of what its README
// shows (spies like "call:warn", loose flow nodes); the tests use it untyped.
declare module "node-red-node-test-helper" {
  const helper: any;
  export default helper;
}
