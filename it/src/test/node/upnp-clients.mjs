// Drives a real npm UPnP client against natgw for IgdNpmClientsE2eTest.
// usage: node upnp-clients.mjs nat-upnp|nat-port-mapper DESCRIPTION_URL INTERNAL_PORT EXTERNAL_PORT
// Prints "MAPPED <protocol> <externalPort>", waits for a line on stdin, unmaps, prints "UNMAPPED", exits 0.
// Both clients skip loopback in SSDP discovery, so each is handed the description URL directly.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'

const [client, description, internalPort, externalPort] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })
const nextLine = () => new Promise(resolve => lines.once('line', resolve))
const fail = (err) => { console.log('ERROR ' + (err && err.stack ? err.stack : err)); process.exit(2) }

async function natUpnp () {
  // IGD:1-only client (node 'nat-upnp'): its device reads only WANIPConnection:1 / WANPPPConnection:1.
  const nat = createRequire(import.meta.url)('nat-upnp')
  const c = nat.createClient()
  c.findGateway = (callback) => callback(null, nat.device.create(description), '127.0.0.1')
  const call = (fn, arg) => new Promise((resolve, reject) => fn.call(c, arg, (err, out) => err ? reject(err) : resolve(out)))
  const ip = await new Promise((resolve, reject) => c.externalIp((err, out) => err ? reject(err) : resolve(out)))
  console.log('EXTERNAL ' + ip)
  await call(c.portMapping, { public: Number(externalPort), private: Number(internalPort), ttl: 600, description: 'nat-upnp' })
  const mappings = await call(c.getMappings, {})
  const mine = mappings.find(m => m.public.port === Number(externalPort))
  if (!mine) throw new Error('getMappings does not list ' + externalPort + ': ' + JSON.stringify(mappings))
  console.log('MAPPED TCP ' + mine.public.port)
  await nextLine()
  await call(c.portUnmapping, { public: Number(externalPort) })
  console.log('UNMAPPED')
  c.close()
}

async function natPortMapper () {
  // IGD:2-only client (libp2p's '@achingbrain/nat-port-mapper').
  const { upnpNat } = await import('@achingbrain/nat-port-mapper')
  const nat = upnpNat({ autoRefresh: false })
  const gateway = await nat.getGateway(new URL(description))
  console.log('EXTERNAL ' + await gateway.externalIp())
  const mapping = await gateway.map(Number(internalPort), '127.0.0.1', {
    externalPort: Number(externalPort), protocol: 'TCP', description: 'nat-port-mapper', ttl: 600
  })
  console.log('MAPPED ' + mapping.protocol + ' ' + mapping.externalPort)
  await nextLine()
  await gateway.unmap(Number(internalPort))
  console.log('UNMAPPED')
  await gateway.stop()
}

const run = client === 'nat-upnp' ? natUpnp : client === 'nat-port-mapper' ? natPortMapper : null
if (!run) fail('unknown client ' + client)
run().then(() => process.exit(0), fail)
