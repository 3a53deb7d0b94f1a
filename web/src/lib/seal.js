// Sealing a secret in the browser for a node's agent, as `python -m cli seal` does: a libsodium
// sealed box (X25519 + XSalsa20-Poly1305) for the node's public key, both in standard base64.
// libsodium loads on first use only (its own chunk of the bundle), so no other screen pays for it.

let ready = null;

async function sodium() {
  ready ||= import('libsodium-wrappers').then(async (module) => {
    const lib = module.default || module;
    await lib.ready;
    return lib;
  });
  return ready;
}

/** The base64 sealed box of `value` for the agent whose X25519 public key is `publicKey` (base64). */
export async function sealForNode(publicKey, value) {
  const lib = await sodium();
  const { base64_variants: variants } = lib;
  const key = lib.from_base64(publicKey, variants.ORIGINAL);
  return lib.to_base64(lib.crypto_box_seal(lib.from_string(value), key), variants.ORIGINAL);
}
