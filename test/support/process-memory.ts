import { readFileSync } from 'node:fs';

const MIB = 1024 * 1024;

/** Resident set size of a process in MiB, from /proc (Linux): the kernel's own count, nothing collected first. */
export function readRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? (Number(match[1]) * 1024) / MIB : 0;
}
