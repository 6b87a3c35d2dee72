/**
 * The few ANSI/VT100 sequences `shmzone top` needs, written by hand rather than through a
 * terminal UI library: the alternate screen, a hidden cursor, redraw from the top left with
 * each line cleared to its end, reverse video for the title, and the keys it reads. Every
 * terminal since the VT100 (xterm, tmux, screen, the Linux console, terminals over SSH)
 * understands them.
 */

const ESC = '\x1b[';
const ALT_SCREEN_ON = `${ESC}?1049h`;
const ALT_SCREEN_OFF = `${ESC}?1049l`;
const CURSOR_HIDE = `${ESC}?25l`;
const CURSOR_SHOW = `${ESC}?25h`;
const HOME = `${ESC}H`;
const CLEAR_LINE_END = `${ESC}K`;
const CLEAR_BELOW = `${ESC}J`;
const REVERSE = `${ESC}7m`;
const NORMAL = `${ESC}0m`;

/** What a key press asks for. */
export type KeyAction =
  'up' | 'down' | 'pageUp' | 'pageDown' | 'toggle' | 'back' | 'quit' | 'refresh';

/**
 * The actions in one chunk of raw terminal input (a chunk may hold several keys, an arrow
 * key is three bytes: ESC [ A). Unknown keys are ignored.
 */
export function parseKeys(chunk: string): KeyAction[] {
  const out: KeyAction[] = [];
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (c === '\x1b') {
      const seq = chunk.slice(i + 1, i + 3);
      const paging = chunk.slice(i + 1, i + 4);
      if (paging === '[5~' || paging === '[6~') {
        out.push(paging === '[5~' ? 'pageUp' : 'pageDown');
        i += 3;
        continue;
      }
      if (seq === '[A' || seq === 'OA') out.push('up');
      else if (seq === '[B' || seq === 'OB') out.push('down');
      else if (seq.length === 0 || chunk[i + 1] === '\x1b') out.push('back');
      if (seq[0] === '[' || seq[0] === 'O') i += 2;
      continue;
    }
    if (c === 'q' || c === 'Q' || c === '\x03') out.push('quit');
    else if (c === 'k') out.push('up');
    else if (c === 'j') out.push('down');
    else if (c === '\t' || c === '\r' || c === '\n') out.push('toggle');
    else if (c === 'b') out.push('back');
    else if (c === 'r') out.push('refresh');
    else if (c === ' ' || c === 'f') out.push('pageDown');
    else if (c === 'u') out.push('pageUp');
  }
  return out;
}

/** The bytes that draw `lines` over the previous frame (title in reverse video). */
export function frameBytes(lines: readonly string[]): string {
  const body = lines.map((l, i) =>
    i === 0 ? `${REVERSE}${l}${CLEAR_LINE_END}${NORMAL}` : `${l}${CLEAR_LINE_END}`,
  );
  return `${HOME}${body.join('\r\n')}${CLEAR_BELOW}`;
}

/** A full-screen session on a TTY: alternate screen and raw keys until {@link close}. */
export class Screen {
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WriteStream,
  ) {
    output.write(ALT_SCREEN_ON + CURSOR_HIDE);
    if (input.isTTY) input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
  }

  get width(): number {
    return this.output.columns || 80;
  }

  get height(): number {
    return this.output.rows || 24;
  }

  draw(lines: readonly string[]): void {
    if (!this.closed) this.output.write(frameBytes(lines));
  }

  /** Restores the terminal: normal screen, cursor, cooked input. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.input.isTTY) this.input.setRawMode(false);
    this.input.pause();
    this.output.write(CURSOR_SHOW + ALT_SCREEN_OFF);
  }
}
