import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { peerIdentity, XdsAuthorizer } from '../src/index.js';

const at = (region: string, zone = '', subZone = '') => ({ region, zone, subZone });

describe('XdsAuthorizer', () => {
  const authorizer = new XdsAuthorizer([
    { identity: 'spiffe://lab/ns/shop/sa/*', localities: [{ region: 'dc1', zone: 'a' }], services: ['*.shop'] },
    { identity: 'spiffe://lab/ns/shop/sa/cart', localities: [{ region: 'dc2' }], services: ['pay.billing'] },
    { identity: 'ops-admin' },
  ]);

  it('lets everyone do everything without rules', () => {
    const grant = new XdsAuthorizer(undefined).grantFor(null);
    expect(grant?.mayClaim(at('anywhere', 'z'))).toBe(true);
    expect(grant?.mayWatch('admin.ops')).toBe(true);
    expect(grant?.restrictsServices).toBe(false);
  });

  it('has no grant for an identity no rule matches; * never crosses a /', () => {
    expect(authorizer.grantFor(null)).toBeUndefined();
    expect(authorizer.grantFor('spiffe://lab/ns/evil/sa/x')).toBeUndefined();
    expect(authorizer.grantFor('spiffe://lab/ns/shop/sa/x/y')).toBeUndefined();
    expect(authorizer.grantFor('spiffe://lab/ns/shop/sa/search')).toBeDefined();
  });

  it('unites what every matching rule grants', () => {
    const cart = authorizer.grantFor('spiffe://lab/ns/shop/sa/cart')!;
    expect(
      [at('dc1', 'a'), at('dc1', 'a', 'rack1'), at('dc2', 'x'), at('dc1', 'b'), at('dc1')].map(cart.mayClaim),
    ).toEqual([true, true, true, false, false]);
    expect(['cart.shop', 'pay.billing', 'admin.ops', 'cart.shopping'].map(cart.mayWatch)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const search = authorizer.grantFor('spiffe://lab/ns/shop/sa/search')!;
    expect([search.mayClaim(at('dc2', 'x')), search.mayWatch('pay.billing')]).toEqual([false, false]);
  });

  it('lets a node that claims no locality in, and leaves unrestricted kinds open', () => {
    expect(authorizer.grantFor('spiffe://lab/ns/shop/sa/search')?.mayClaim(at(''))).toBe(true);
    const admin = authorizer.grantFor('ops-admin')!;
    expect([admin.mayClaim(at('dc9', 'q')), admin.mayWatch('admin.ops'), admin.restrictsServices]).toEqual([
      true,
      true,
      false,
    ]);
  });
});

describe('peerIdentity', () => {
  const certificate = (subjectaltname: string | undefined, CN: string) =>
    ({ subjectaltname, subject: { CN } }) as unknown as PeerCertificate;

  it('takes the SPIFFE URI SAN, else the subject CN', () => {
    expect(peerIdentity(certificate('DNS:cart.local, URI:spiffe://lab/ns/shop/sa/cart', 'cart'))).toBe(
      'spiffe://lab/ns/shop/sa/cart',
    );
    expect(peerIdentity(certificate('URI:https://example.com/x, DNS:a', 'ops-admin'))).toBe('ops-admin');
    expect(peerIdentity(certificate(undefined, 'ops-admin'))).toBe('ops-admin');
    expect(peerIdentity(undefined)).toBeNull();
  });
});
