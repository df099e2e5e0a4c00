/** ESIA's `timestamp` (`yyyy.MM.dd HH:mm:ss Z`): read with its offset; a `+` that arrived as a space is the `+` that was signed. */
import { expect } from 'chai';
import { formatEsiaTimestamp, parseEsiaTimestamp } from '../../src/esia/timestamp.ts';

describe('ESIA timestamp', () => {
  it('reads the offset', () => {
    expect(parseEsiaTimestamp('2024.03.05 14:07:31 +0300')?.at).to.equal(Date.UTC(2024, 2, 5, 11, 7, 31));
    expect(parseEsiaTimestamp('2024.03.05 14:07:31 -0130')?.at).to.equal(Date.UTC(2024, 2, 5, 15, 37, 31));
    expect(parseEsiaTimestamp('2024.03.05 14:07:31 +03:00')?.at).to.equal(Date.UTC(2024, 2, 5, 11, 7, 31));
  });

  it('a + that arrived as a space: both spellings, the signed one included', () => {
    const read = parseEsiaTimestamp('2024.03.05 14:07:31  0300');
    expect(read?.at).to.equal(Date.UTC(2024, 2, 5, 11, 7, 31));
    expect(read?.spellings).to.include('2024.03.05 14:07:31 +0300');
  });

  it('refuses other formats and impossible dates', () => {
    for (const bad of ['2024-03-05T14:07:31Z', '2024.02.30 10:00:00 +0300', '2024.03.05 24:00:00 +0300', '2024.03.05 14:07:31', '']) {
      expect(parseEsiaTimestamp(bad), bad).to.equal(undefined);
    }
  });

  it('formats as ESIA does and reads back', () => {
    const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    expect(formatEsiaTimestamp(at)).to.equal('2025.01.02 03:04:05 +0000');
    expect(parseEsiaTimestamp(formatEsiaTimestamp(at))?.at).to.equal(at.getTime());
  });
});
