/** One-time codes and the small compare-and-set settings documents. */
import type { mongo } from 'mongoose';
import type { Challenge, ChallengeRepository, Letter, LetterRepository, SettingRepository } from '../../src/store.ts';
import { isDuplicateKey, isKey, plain, type ChallengeDoc, type LetterDoc, type SettingDoc } from './collections.ts';

const challengeProjection = { _id: 0, expiresAtDate: 0 } as const;

export class MongoChallenges implements ChallengeRepository {
  constructor(private readonly challenges: mongo.Collection<ChallengeDoc>) {}

  async create(c: Challenge): Promise<void> {
    await this.challenges.insertOne({ ...plain(c), _id: c.id, expiresAtDate: new Date(c.expiresAt) });
  }

  async find(id: string): Promise<Challenge | undefined> {
    if (!isKey(id)) return undefined;
    return (await this.challenges.findOne({ _id: id }, { projection: challengeProjection })) ?? undefined;
  }

  /** One conditional single-document update: of N parallel callers at most the attempts left match. */
  async takeAttempt(id: string, now: string): Promise<Challenge | undefined> {
    if (!isKey(id)) return undefined;
    const after = await this.challenges.findOneAndUpdate(
      { _id: id, consumedAt: { $exists: false }, expiresAt: { $gt: now }, $expr: { $lt: ['$attempts', '$maxAttempts'] } },
      { $inc: { attempts: 1 } },
      { returnDocument: 'after', projection: challengeProjection },
    );
    return after ?? undefined;
  }

  /** One conditional single-document update: atomic, so exactly one caller matches. */
  async consume(id: string, now: string): Promise<boolean> {
    if (!isKey(id)) return false;
    const res = await this.challenges.updateOne(
      {
        _id: id,
        consumedAt: { $exists: false },
        // ISO strings compare chronologically as strings — the same comparison SQLite makes
        expiresAt: { $gt: now },
        $expr: { $lte: ['$attempts', '$maxAttempts'] },
      },
      { $set: { consumedAt: now } },
    );
    return res.matchedCount === 1;
  }

  async sweep(now: string): Promise<number> {
    return (await this.challenges.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
  }
}

export class MongoSettings implements SettingRepository {
  constructor(private readonly settings: mongo.Collection<SettingDoc>) {}

  async get(name: string): Promise<{ value: string; version: number } | undefined> {
    if (!isKey(name)) return undefined;
    const doc = await this.settings.findOne({ _id: name });
    return doc ? { value: doc.value, version: doc.version } : undefined;
  }

  async put(name: string, value: string, expectedVersion: number): Promise<boolean> {
    if (expectedVersion === 0) {
      try {
        await this.settings.insertOne({ _id: name, value, version: 1 });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    }
    const res = await this.settings.updateOne({ _id: name, version: expectedVersion }, { $set: { value }, $inc: { version: 1 } });
    return res.matchedCount === 1;
  }
}

export class MongoLetters implements LetterRepository {
  constructor(private readonly letters: mongo.Collection<LetterDoc>) {}

  async create(letter: Letter): Promise<void> {
    await this.letters.insertOne({ ...plain(letter), _id: letter.id });
  }

  async find(id: string): Promise<Letter | undefined> {
    if (!isKey(id)) return undefined;
    return (await this.letters.findOne({ _id: id }, { projection: { _id: 0 } })) ?? undefined;
  }

  async list(status: Letter['status'], limit = 100): Promise<Letter[]> {
    return this.letters
      .find({ status }, { projection: { _id: 0 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
  }

  /** One conditional update: only a queued letter becomes sent, and its code is dropped. */
  async markSent(id: string, at: string, by: string): Promise<boolean> {
    if (!isKey(id)) return false;
    const res = await this.letters.updateOne(
      { _id: id, status: 'queued' },
      { $set: { status: 'sent', sentAt: at, sentBy: by }, $unset: { sealedCode: '' } },
    );
    return res.matchedCount === 1;
  }

  /** One conditional update: only a queued letter becomes cancelled, and its code is dropped. */
  async cancel(id: string, at: string, reason: string): Promise<boolean> {
    if (!isKey(id)) return false;
    const res = await this.letters.updateOne(
      { _id: id, status: 'queued' },
      { $set: { status: 'cancelled', cancelledAt: at, cancelReason: reason }, $unset: { sealedCode: '' } },
    );
    return res.matchedCount === 1;
  }

  /** Two conditional updates: queued letters are cancelled as `erased`, the others only redacted. */
  async eraseForAccount(accountId: string, at: string): Promise<number> {
    if (!isKey(accountId)) return 0;
    const drop = { $unset: { sealedCode: '', recipient: '' } } as const;
    const queued = await this.letters.updateMany(
      { accountId, status: 'queued', erasedAt: { $exists: false } },
      { $set: { status: 'cancelled', cancelledAt: at, cancelReason: 'erased', erasedAt: at }, ...drop },
    );
    const others = await this.letters.updateMany({ accountId, erasedAt: { $exists: false } }, { $set: { erasedAt: at }, ...drop });
    return queued.modifiedCount + others.modifiedCount;
  }
}
