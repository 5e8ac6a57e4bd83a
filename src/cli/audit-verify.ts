import type { ChainVerification } from '../audit/verify.ts';

/** One line per chain: OK with its head (to note down elsewhere), or the first broken event. */
export function formatAuditVerification(chains: ChainVerification[]): string {
  if (chains.length === 0) return 'OK  the audit log is empty';
  return chains
    .map((chain) => {
      const name = chain.organizationId ? `organisation ${chain.organizationId}` : 'platform';
      if (chain.ok) return `OK      ${name}: ${chain.events} events, head #${chain.head?.sequence ?? 0} ${chain.head?.hash ?? ''}`.trimEnd();
      const broken = chain.firstBroken;
      return `BROKEN  ${name}: first broken event ${broken?.id} (#${broken?.sequence}): ${broken?.reason}`;
    })
    .join('\n');
}
