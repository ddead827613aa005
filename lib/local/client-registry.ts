import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

/** A client application of the local issuer, as `listClients` shows it: no secret material. */
export interface LocalClient {
  clientId: string;
  objectId: string;
  displayName: string;
  createdAt: string;
}

/** Handed out once, when a client is created; the registry keeps only a hash of the secret. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  objectId: string;
}

interface StoredClient extends LocalClient {
  /** SHA-256 of the secret, base64url. Secrets are 256 random bits, so an unsalted hash is enough. */
  secretSha256: string;
}

interface ClientsFile {
  clients: StoredClient[];
}

/**
 * The clients file (JSON, 0600) of the local issuer. It is read again on every lookup, so a client
 * created by another process (the CLI) works without a restart; writes from this process are
 * serialised and land through a rename. Two processes writing at the same moment can lose one write.
 */
export class ClientRegistry {
  private writes: Promise<unknown> = Promise.resolve();
  private ensures: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  async create(displayName: string): Promise<ClientCredentials> {
    if (!displayName.trim() || displayName.length > 256)
      throw new Error('displayName must be 1 to 256 characters');
    const clientSecret = randomBytes(32).toString('base64url');
    const client: StoredClient = {
      clientId: randomUUID(),
      objectId: randomUUID(),
      displayName,
      createdAt: new Date().toISOString(),
      secretSha256: sha256(clientSecret).toString('base64url'),
    };
    await this.update((file) => file.clients.push(client));
    return { clientId: client.clientId, clientSecret, objectId: client.objectId };
  }

  async list(): Promise<LocalClient[]> {
    return (await this.read()).clients.map(({ secretSha256: _, ...client }) => client);
  }

  /**
   * The client when `clientSecret` is its secret, else undefined. The time taken does not depend
   * on where the secrets differ, nor on whether the client exists.
   */
  async authenticate(clientId: string, clientSecret: string): Promise<LocalClient | undefined> {
    const wanted = clientId.toLowerCase();
    const stored = (await this.read()).clients.find((client) => client.clientId === wanted);
    const expected = stored ? Buffer.from(stored.secretSha256, 'base64url') : randomBytes(32);
    const presented = sha256(clientSecret);
    const matches = expected.length === presented.length && timingSafeEqual(expected, presented);
    if (!stored || !matches) return undefined;
    const { secretSha256: _, ...client } = stored;
    return client;
  }

  async find(clientId: string): Promise<LocalClient | undefined> {
    const wanted = clientId.toLowerCase();
    return (await this.list()).find((client) => client.clientId === wanted);
  }

  /**
   * The credentials kept in `credentialsPath` (0600) when they still authenticate, else those of a
   * new client named `displayName`, saved there. This is how `npm start` can print the dev client's
   * secret on every start although the registry itself keeps only its hash.
   */
  ensureClient(displayName: string, credentialsPath: string): Promise<ClientCredentials> {
    const next = this.ensures.then(async () => {
      const saved = await readJson<ClientCredentials>(credentialsPath);
      if (saved && (await this.authenticate(saved.clientId, saved.clientSecret))) return saved;
      const created = await this.create(displayName);
      await writeJsonAtomic(credentialsPath, created);
      return created;
    });
    this.ensures = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<ClientsFile> {
    return (await readJson<ClientsFile>(this.path)) ?? { clients: [] };
  }

  private update(change: (file: ClientsFile) => void): Promise<void> {
    const next = this.writes.then(async () => {
      const file = await this.read();
      change(file);
      await writeJsonAtomic(this.path, file);
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes JSON readable by the owner only (or `mode`), through a temporary file and a rename. */
export async function writeJsonAtomic(path: string, value: unknown, mode = 0o600): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode, flag: 'wx' });
  await rename(temporary, path);
}
