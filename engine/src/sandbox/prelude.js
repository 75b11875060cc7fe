(function (sink) {
  'use strict';
  const nativeStringify = JSON.stringify;
  const isArray = Array.isArray;
  const defineProperty = Object.defineProperty;
  const objectToString = Object.prototype.toString;
  const apply = Reflect.apply;
  const toText = String;
  const ErrorType = Error;

  const tagOf = function (value) { return apply(objectToString, value, []); };
  const keep = function (key, value) { return value; };
  const propertyList = function (replacer) {
    const list = [];
    const length = replacer.length;
    for (let i = 0; i < length; i++) {
      const item = replacer[i];
      let name;
      if (typeof item === 'string') name = item;
      else if (typeof item === 'number') name = toText(item);
      else if (item !== null && typeof item === 'object') {
        const tag = tagOf(item);
        if (tag === '[object String]' || tag === '[object Number]') name = toText(item);
      }
      if (name === undefined) continue;
      let seen = false;
      for (let j = 0; j < list.length; j++) if (list[j] === name) { seen = true; break; }
      if (!seen) list[list.length] = name;
    }
    return list;
  };
  const pick = function (list) {
    return function (key, value) {
      if (value === null || typeof value !== 'object' || isArray(value)) return value;
      const tag = tagOf(value);
      if (tag === '[object Number]' || tag === '[object String]' ||
          tag === '[object Boolean]' || tag === '[object BigInt]') return value;
      const picked = {};
      for (let i = 0; i < list.length; i++) {
        defineProperty(picked, list[i], {
          value: value[list[i]], writable: true, enumerable: true, configurable: true,
        });
      }
      return picked;
    };
  };
  const stringify = function stringify(value, replacer, space) {
    let replace = keep;
    if (typeof replacer === 'function') replace = replacer;
    else if (isArray(replacer)) replace = pick(propertyList(replacer));
    return nativeStringify(value, replace, space);
  };
  defineProperty(JSON, 'stringify', {
    value: stringify, writable: true, enumerable: false, configurable: true,
  });

  const format = function (value) {
    if (typeof value === 'string') return value;
    if (value instanceof ErrorType) {
      try { return toText(value); } catch (_) { return '[error]'; }
    }
    if (value !== null && typeof value === 'object') {
      try {
        const json = stringify(value);
        if (typeof json === 'string') return json;
      } catch (_) { }
    }
    try { return toText(value); } catch (_) { return '[unprintable]'; }
  };
  const write = function () {
    let line = '';
    for (let i = 0; i < arguments.length; i++) {
      if (i > 0) line += ' ';
      line += format(arguments[i]);
    }
    sink(line);
  };
  const console = {};
  const names = ['log', 'info', 'warn', 'error', 'debug'];
  for (let i = 0; i < names.length; i++) console[names[i]] = write;
  defineProperty(globalThis, 'console', {
    value: console, writable: true, enumerable: false, configurable: true,
  });
  // QuickJS adds this host (WHATWG) function; code steps get only ECMAScript globals.
  delete globalThis.queueMicrotask;
  return stringify;
})
