import { describe, expect, it } from 'vitest';
import { openCommand, openInBrowser } from '../../shared/report/open-in-browser.ts';

describe('opening the report in a browser', () => {
  it('does nothing on Linux without a display', () => {
    // Prepare
    const calls: string[] = [];
    // Act
    const opened = openInBrowser('/tmp/report/index.html', {
      platform: 'linux',
      env: {},
      spawn: (command) => {
        calls.push(command);
        return { on: () => undefined, unref: () => undefined };
      },
    });
    // Assess
    expect(opened).toBe(false);
    expect(calls).toEqual([]);
  });

  it('uses xdg-open on Linux with a display, open on macOS and start on Windows', () => {
    expect(openCommand('/r/index.html', 'linux', { DISPLAY: ':0' })).toEqual({ command: 'xdg-open', args: ['/r/index.html'] });
    expect(openCommand('/r/index.html', 'linux', { WAYLAND_DISPLAY: 'wayland-0' })?.command).toBe('xdg-open');
    expect(openCommand('/r/index.html', 'darwin', {})).toEqual({ command: 'open', args: ['/r/index.html'] });
    expect(openCommand('C:\\r\\index.html', 'win32', {})).toEqual({ command: 'cmd', args: ['/c', 'start', '""', 'C:\\r\\index.html'] });
  });

  it('starts the opener detached and ignores a missing one', () => {
    // Prepare
    const seen: { command: string; args: readonly string[]; detached: unknown }[] = [];
    let errorHandler: ((error: Error) => void) | undefined;
    // Act
    const opened = openInBrowser('/r/index.html', {
      platform: 'linux',
      env: { DISPLAY: ':0' },
      spawn: (command, args, options) => {
        seen.push({ command, args, detached: options.detached });
        return {
          on: (_event: 'error', listener: (error: Error) => void) => {
            errorHandler = listener;
          },
          unref: () => undefined,
        };
      },
    });
    // Assess
    expect(opened).toBe(true);
    expect(seen).toEqual([{ command: 'xdg-open', args: ['/r/index.html'], detached: true }]);
    expect(() => errorHandler?.(new Error('spawn xdg-open ENOENT'))).not.toThrow();
  });
});
