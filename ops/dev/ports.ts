/**
 * The dev stack's fixed ports, checked before anything starts: a taken one is reported with the flag of
 * `bun run start` that moves it (a child's own hint would name the child's flag, which dev.ts does not take).
 */

/** One port the stack listens on and the dev flag that chooses it. */
export interface DevPort {
  what: string;
  port: number;
  flag: string;
}

/** The first port of `ports` that cannot be bound on 127.0.0.1 now, or null. */
export function takenPort(ports: DevPort[]): DevPort | null {
  for (const p of ports) {
    try {
      Bun.listen({ hostname: "127.0.0.1", port: p.port, socket: { data() {} } }).stop(true);
    } catch {
      return p;
    }
  }
  return null;
}
