import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';

const VERSION = 's1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** scrypt's cost: about 16 MiB and tens of milliseconds, once per sealer. */
const SCRYPT_OPTIONS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/**
 * Seals values (tokens) before they go to a shared store: AES-256-GCM under a key derived with
 * scrypt from material only the config's holders have (its credentials), salted with the config's
 * namespace. A value sealed for one key name does not open under another (the name is the
 * additional data). Opening with the wrong material, or a tampered text, gives undefined.
 */
export class Sealer {
  private key: Promise<Buffer> | undefined;

  /** `material`: the config's credentials; `salt`: its key namespace, e.g. `pbx:<config id>`. */
  constructor(
    private readonly material: ReadonlyArray<string | undefined>,
    private readonly salt: string,
  ) {}

  async seal(value: unknown, name: string): Promise<string> {
    const key = await this.derivedKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(name));
    const body = Buffer.concat([cipher.update(JSON.stringify(value) ?? 'null', 'utf8'), cipher.final()]);
    return VERSION + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  async open<T>(sealed: unknown, name: string): Promise<T | undefined> {
    if (typeof sealed !== 'string' || !sealed.startsWith(VERSION)) return undefined;
    const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    const key = await this.derivedKey();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  private derivedKey(): Promise<Buffer> {
    this.key ??= new Promise((resolve, reject) => {
      // Lengths first, so ["ab", "c"] and ["a", "bc"] derive different keys.
      const input = this.material.map((m) => `${(m ?? '').length}:${m ?? ''}`).join('\n');
      scrypt(input, `callflow-pbx-seal:${this.salt}`, 32, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolve(key)));
    });
    return this.key;
  }
}
