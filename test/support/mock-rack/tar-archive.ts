/**
 * A minimal ustar writer: `convox cp` downloads and `builds export` expect real tar bytes, and a few dozen
 * lines here beat a dependency for two fixed, tiny archives.
 */
export interface TarEntry {
  name: string;
  content: Buffer;
  mode?: number;
}

const BLOCK = 512;

export function tarArchive(entries: TarEntry[], mtimeSeconds = Date.UTC(2026, 0, 1) / 1000): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    blocks.push(tarHeader(entry, mtimeSeconds), entry.content);
    const padding = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}

function tarHeader(entry: TarEntry, mtimeSeconds: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number): string => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write(entry.name.slice(0, 100), 0, 'utf8');
  header.write(octal(entry.mode ?? 0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(entry.content.length, 12), 124, 'ascii');
  header.write(octal(Math.floor(mtimeSeconds), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\u000000', 257, 'ascii');
  header.write('root', 265, 'ascii');
  header.write('root', 297, 'ascii');
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}
