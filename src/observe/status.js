// The status page's script (`GET /status.js`, served by observe.rs).
//
// It refreshes the register sections every 5 seconds without reloading the page (so what the
// technician typed stays), and runs the actions panel: shift and report commands, a copy of a
// document, and the settlement of an operation a halted register holds. Those calls carry the
// admin token the technician pasted, which lives only in this tab's sessionStorage and only
// goes out in the Authorization header (never a cookie, never localStorage). The ids of held
// operations are not on the page; they are fetched with that token and filled in.
'use strict';

(() => {
  const TOKEN_KEY = 'fiscal-gateway.adminToken';
  const REFRESH_MS = 5000;
  // checkStatus long polls of 10 s: about five minutes for a report on a slow printer.
  const POLL_ROUNDS = 30;

  const $ = (selector) => document.querySelector(selector);

  class Failure extends Error {
    constructor(message, http) {
      super(message);
      this.http = http;
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  // A fresh operationId. crypto.randomUUID needs a secure context (localhost is one); a page
  // opened by a LAN address is not, and gets the same v4 UUID from getRandomValues.
  function newOperationId() {
    if (typeof crypto.randomUUID === 'function') {
      return crypto.randomUUID();
    }
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function httpMessage(status, body) {
    const server = body && typeof body.errorMessage === 'string' ? body.errorMessage : '';
    const code = body && typeof body.errorCode === 'string' ? ` [${body.errorCode}]` : '';
    if (status === 401) {
      return `401: токен не принят — неверный, просроченный или подписан другим ключом.${server ? ' ' + server : ''}${code}`;
    }
    if (status === 403) {
      return `403: у токена нет прав на это действие (нужен claim "scope": "admin").${server ? ' ' + server : ''}${code}`;
    }
    return `${status}: ${server || 'служба отказала'}${code}`;
  }

  async function api(method, path, body) {
    const t = token();
    if (!t) {
      throw new Failure('Вставьте токен администратора в поле «Токен».');
    }
    const init = {
      method,
      headers: { Authorization: `Bearer ${t}` },
      cache: 'no-store',
      credentials: 'omit',
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let answer;
    try {
      answer = await fetch(path, init);
    } catch (e) {
      throw new Failure(`Служба не отвечает (${e.message}).`);
    }
    let data = null;
    try {
      data = await answer.json();
    } catch (_) {
      data = null;
    }
    if (!answer.ok) {
      throw new Failure(httpMessage(answer.status, data), answer.status);
    }
    return data;
  }

  function show(status, text, http) {
    const el = $('#result');
    el.textContent = text;
    el.dataset.http = http === undefined ? '' : String(http);
    el.dataset.status = String(status);
  }

  function describe(body) {
    const lines = [];
    if (body.status === 2) {
      lines.push('Выполнено (status 2).');
    } else if (body.status === 3) {
      lines.push(`Не выполнено (status 3): ${body.errorMessage || ''}${body.errorCode ? ` [${body.errorCode}]` : ''}`);
    } else {
      lines.push(`Всё ещё выполняется (status ${body.status}). ${body.errorMessage || ''}`);
    }
    // fiscalParams, shiftParams, printParams, cashParams …: what the register made.
    for (const [name, params] of Object.entries(body)) {
      if (!name.endsWith('Params') || !params || typeof params !== 'object') {
        continue;
      }
      for (const [k, v] of Object.entries(params)) {
        if (v !== null && typeof v !== 'object') {
          lines.push(`${k}: ${v}`);
        }
      }
    }
    return lines.join('\n');
  }

  // Follows an operation until it leaves status 1 (or the rounds run out).
  async function follow(operationId, first) {
    let body = first;
    for (let round = 0; body && body.status === 1 && round < POLL_ROUNDS; round++) {
      show('pending', `Выполняется… (${round * 10} с)`);
      const query = `operationId=${encodeURIComponent(operationId)}&wait=10`;
      body = await api('GET', `/v1.0/operations/checkStatus?${query}`);
    }
    if (!body || typeof body.status !== 'number') {
      throw new Failure('Непонятный ответ службы.');
    }
    show(body.status, describe(body), 200);
  }

  function wholeNumber(input, what) {
    const text = input.value.trim();
    if (text === '') {
      return undefined;
    }
    if (!/^[0-9]{1,10}$/.test(text)) {
      throw new Failure(`${what}: нужно целое число.`);
    }
    return Number(text);
  }

  const OPERATIONS = {
    xReport: () => ({}),
    closeShift: () => ({}),
    openShift: () => ({}),
    printCopy: () => {
      const fd = wholeNumber($('#copy-fd'), 'ФД для копии');
      return fd === undefined ? {} : { fiscalDocumentNumber: fd };
    },
  };

  async function operation(kind) {
    const extra = OPERATIONS[kind]();
    const operationId = newOperationId();
    const body = { operationId, ...extra };
    const cashbox = $('#cashbox').value;
    if (cashbox) {
      body.cashboxId = cashbox;
    }
    show('pending', 'Отправлено…');
    const first = await api('POST', `/v1.0/operations/${kind}`, body);
    await follow(operationId, first);
  }

  async function settle(done) {
    const id = $('#settle-id').value.trim();
    if (!id) {
      throw new Failure('Нет операции для решения: вставьте токен, и она подставится, или введите её ID.');
    }
    const body = { outcome: done ? 'done' : 'notDone' };
    if (done) {
      const fd = wholeNumber($('#settle-fd'), 'ФД');
      if (fd !== undefined) {
        body.fiscalDocumentNumber = fd;
      }
    }
    if ($('#settle-force').checked) {
      body.force = true;
    }
    const reason = $('#settle-reason').value.trim();
    if (reason) {
      body.reason = reason;
    }
    show('pending', 'Отправлено…');
    const answer = await api('POST', `/v1.0/admin/operations/${encodeURIComponent(id)}/settle`, body);
    if (answer && answer.status === 1) {
      // Not done: the operation is queued again; show how it ends.
      await follow(id, answer);
    } else if (answer && typeof answer.status === 'number') {
      show(answer.status, describe(answer), 200);
    } else {
      show(2, 'Решение принято.', 200);
    }
    await fillHeld();
  }

  // What a person confirms before it happens: a Z report ends the shift, a settlement decides
  // an operation's outcome for good.
  function confirmed(action) {
    const cashbox = $('#cashbox').value;
    const id = $('#settle-id').value.trim();
    const fd = $('#settle-fd').value.trim();
    switch (action) {
      case 'closeShift':
        return window.confirm(`Закрыть смену на кассе ${cashbox} (Z-отчёт)?`);
      case 'settle-done':
        if (!id) {
          return true; // settle() says what is missing
        }
        return window.confirm(`Операция ${id}: документ${fd ? ` ФД ${fd}` : ''} есть в ФН — операция выполнена?`);
      case 'settle-not-done':
        if (!id) {
          return true;
        }
        return window.confirm(`Операция ${id}: документа нет в ФН — поставить операцию в очередь снова?`);
      default:
        return true;
    }
  }

  async function act(button) {
    if (!confirmed(button.dataset.action)) {
      return;
    }
    const buttons = document.querySelectorAll('#actions button[data-action]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const action = button.dataset.action;
      if (action === 'settle-done' || action === 'settle-not-done') {
        await settle(action === 'settle-done');
      } else {
        await operation(action);
      }
    } catch (e) {
      show('error', e.message, e instanceof Failure ? e.http : undefined);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // The held operations, leniently: registers each with `halted` ({operationId, reason}) and
  // their unsettled operations (only the halted one is held: the others are in flight), or a
  // bare list / {operations: [...]} of held operations. Gives [{id, cashbox}].
  function heldFrom(list) {
    let entries = [];
    if (Array.isArray(list)) {
      entries = list;
    } else if (list && typeof list === 'object') {
      for (const key of ['registers', 'cashboxes', 'operations', 'items', 'held']) {
        if (Array.isArray(list[key])) {
          entries = list[key];
          break;
        }
      }
    }
    const cashboxOf = (o) => o && (o.cashboxId || o.register || o.registerId);
    const held = [];
    for (const entry of entries) {
      if (!entry || typeof entry !== 'object') {
        continue;
      }
      const grouped = 'halted' in entry || Array.isArray(entry.operations);
      if (grouped) {
        const cashbox = cashboxOf(entry) || entry.id;
        const halt = entry.halted;
        const ops = Array.isArray(entry.operations) ? entry.operations : [];
        if (halt && typeof halt === 'object' && halt.operationId) {
          held.push({ id: halt.operationId, cashbox, reason: typeof halt.reason === 'string' ? halt.reason : '' });
        } else if (ops.length === 1) {
          // No word on the halt (a service that does not say): a register the page shows
          // halted holds its one unsettled operation. Used only for such a register.
          held.push({ id: ops[0].operationId || ops[0].id, cashbox, onlyUnsettled: true });
        }
      } else {
        held.push({ id: entry.operationId || entry.id, cashbox: cashboxOf(entry) });
      }
    }
    return held.filter((h) => typeof h.id === 'string' && h.id);
  }

  let filling = false;
  // The last list fetched with the token, put back at once after each refresh (the fresh
  // sections come with placeholders) until the next fetch answers.
  let lastHeld = null;

  // Puts the ids (and full reasons) of held operations into the halted sections and the
  // settle form.
  function applyHeld(held) {
    const places = document.querySelectorAll('.held-id');
    // Only registers the page shows halted (they have a placeholder) take an id.
    const halted = new Set(Array.from(places, (el) => el.dataset.register));
    const ours = held.filter((h) => halted.has(h.cashbox) || (!h.cashbox && !h.onlyUnsettled));
    const heldBy = (register) => ours.find((h) => h.cashbox === register) || (ours.length === 1 ? ours[0] : null);
    places.forEach((el) => {
      const found = heldBy(el.dataset.register);
      if (found) {
        el.textContent = found.id;
      }
    });
    // The full reason (the token-free page shows it cut: it names the operation).
    document.querySelectorAll('.held-reason').forEach((el) => {
      const found = heldBy(el.dataset.register);
      if (found && found.reason) {
        el.textContent = found.reason;
      }
    });
    const input = $('#settle-id');
    if (!input.value.trim()) {
      const cashbox = $('#cashbox').value;
      const found = ours.find((h) => h.cashbox === cashbox) || ours[0];
      if (found) {
        input.value = found.id;
      }
    }
    return ours.length;
  }

  // Fetches the held operations with the token (only while a register is halted).
  async function fillHeld() {
    const note = $('#held-note');
    if (!token()) {
      lastHeld = null;
      note.textContent = '';
      return;
    }
    if (document.querySelectorAll('.held-id').length === 0 || filling) {
      return;
    }
    filling = true;
    try {
      lastHeld = heldFrom(await api('GET', '/v1.0/admin/operations?state=unsettled'));
      const named = applyHeld(lastHeld);
      note.textContent = named ? '' : 'Служба не назвала удержанную операцию.';
    } catch (e) {
      note.textContent = `ID операции не получен: ${e.message}`;
    } finally {
      filling = false;
    }
  }

  async function refresh() {
    try {
      const answer = await fetch('/', { cache: 'no-store', credentials: 'omit' });
      if (!answer.ok) {
        return;
      }
      const fresh = new DOMParser().parseFromString(await answer.text(), 'text/html');
      for (const id of ['registers', 'updated']) {
        const next = fresh.getElementById(id);
        const here = document.getElementById(id);
        if (next && here) {
          here.replaceChildren(...next.childNodes);
        }
      }
      if (lastHeld) {
        applyHeld(lastHeld);
      }
      await fillHeld();
    } catch (_) {
      // The service is restarting: the next round tries again.
    }
  }

  function start() {
    const input = $('#token');
    input.value = token();
    input.addEventListener('input', () => {
      const value = input.value.trim();
      if (value) {
        sessionStorage.setItem(TOKEN_KEY, value);
      } else {
        sessionStorage.removeItem(TOKEN_KEY);
      }
      fillHeld();
    });
    $('#forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      input.value = '';
      $('#settle-id').value = '';
      lastHeld = null;
      // Put the placeholders back at once: the ids were for the token's holder.
      refresh();
    });
    document.querySelectorAll('#actions button[data-action]').forEach((b) => {
      b.addEventListener('click', () => act(b));
    });
    $('#updated-note').textContent = `Данные обновляются каждые ${REFRESH_MS / 1000} секунд.`;
    setInterval(refresh, REFRESH_MS);
    fillHeld();
  }

  start();
})();
