import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import registryChromium, { inflate } from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';

/** The value of `CHROMIUM_PATH` that asks for the registry's Chromium even where the system has one. */
export const REGISTRY_BROWSER = '@sparticuz/chromium';

/** Debian's and Ubuntu's path of the system Chromium, used when present and `CHROMIUM_PATH` is not set. */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Headless, offline and quiet: nothing the page does may reach the network through the browser's own services. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** A running Chromium and where it came from. */
export interface LaunchedBrowser {
  readonly browser: Browser;
  /** Its version and origin, e.g. `Chromium 153.0.8010.0, @sparticuz/chromium from node_modules (registry)`. */
  readonly source: string;
}

interface Candidate {
  readonly source: string;
  /** Resolves the executable and the environment it runs with. */
  readonly prepare: () => Promise<{ executablePath: string; env?: NodeJS.ProcessEnv }>;
  /** What to do when it fails. */
  readonly advice: string;
}

function systemCandidate(path: string, origin: string): Candidate {
  return {
    source: `${path} (${origin})`,
    prepare: async () => {
      if (!existsSync(path)) throw new Error(`${path} does not exist`);
      return { executablePath: path };
    },
    advice: `point CHROMIUM_PATH at a Chromium, or set CHROMIUM_PATH=${REGISTRY_BROWSER} to use the one npm ci installed`,
  };
}

/**
 * The headless Chromium that `npm ci` put in node_modules, inflated into the temp folder on first use and
 * given the package's own fonts (Open Sans, through its fonts.conf), so the page renders the same whatever
 * fonts the machine has. With `ownLibraries`, it also loads the NSS, NSPR and expat libraries the package
 * carries for Amazon Linux 2023 (they need glibc 2.34): the way to run where the system has none (a slim
 * container), tried only after the system's libraries failed.
 */
function registryCandidate(ownLibraries: boolean): Candidate {
  return {
    source: `${REGISTRY_BROWSER} from node_modules (registry${ownLibraries ? ', with its own libnss3' : ''})`,
    prepare: async () => {
      if (process.platform !== 'linux' || process.arch !== 'x64') {
        throw new Error(`the npm package holds a Linux x64 Chromium only, and this machine is ${process.platform} ${process.arch}`);
      }
      const executablePath = await registryChromium.executablePath();
      const env: NodeJS.ProcessEnv = { ...process.env, FONTCONFIG_PATH: join(tmpdir(), 'fonts') };
      if (ownLibraries) {
        const libraries = join(
          await inflate(join(dirname(fileURLToPath(import.meta.resolve(REGISTRY_BROWSER))), '..', 'bin', 'al2023.tar.br')),
          'lib',
        );
        env.LD_LIBRARY_PATH = [libraries, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
      }
      return { executablePath, env };
    },
    advice:
      `run npm ci; if a run was stopped while it unpacked the browser, delete ${join(tmpdir(), 'chromium')} and try again; ` +
      'on other machines than Linux x64, install Chromium and set CHROMIUM_PATH',
  };
}

/** Which browsers to try, in order: `CHROMIUM_PATH` alone when set, otherwise the system's and then the registry's (on the system's libraries, then on its own). */
function candidates(): Candidate[] {
  const asked = process.env.CHROMIUM_PATH;
  const registry = [registryCandidate(false), registryCandidate(true)];
  if (asked === REGISTRY_BROWSER) return registry;
  if (asked) return [systemCandidate(asked, 'CHROMIUM_PATH')];
  return existsSync(SYSTEM_CHROMIUM) ? [systemCandidate(SYSTEM_CHROMIUM, 'system'), ...registry] : registry;
}

/**
 * Launches a headless Chromium for a test: the system's when there is one, else the registry's.
 * Throws, naming every browser tried and why it failed, when none starts: a browser test never skips.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const failures: string[] = [];
  for (const candidate of candidates()) {
    try {
      const { executablePath, env } = await candidate.prepare();
      const browser = await chromium.launch({ executablePath, args: ARGS, ...(env ? { env } : {}) });
      return { browser, source: `Chromium ${browser.version()}, ${candidate.source}` };
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).replaceAll('\n', '\n    ');
      failures.push(`- ${candidate.source}: ${reason}\n  Fix: ${candidate.advice}.`);
    }
  }
  throw new Error(`No Chromium could be launched for the browser test:\n${failures.join('\n')}`);
}
