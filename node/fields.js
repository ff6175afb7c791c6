'use strict'
// Refuses a property an options object does not have: a misspelt option would otherwise be
// ignored. The rule (and the "did you mean" suggestion) is the core's, through the addon, as for
// the objects the addon reads itself. Internal: not exported by the package.

const native = require('./index.js')
const { fromNative, ValidationError } = require('./errors.js')

/** Throws a `ValidationError` naming the first property of `options` not in `fields`. */
function checkFields(options, what, fields) {
  try {
    native.checkFields(options, what, fields)
  } catch (e) {
    throw fromNative(e)
  }
}

/** The caller's getter or Proxy trap for `field` threw `e`: a `ValidationError` naming the field
 * and quoting it (nothing was sent), as the addon says it for the objects it reads itself. */
function readThrew(field, e) {
  let quoted
  try {
    quoted = String(e)
  } catch {
    quoted = 'an exception'
  }
  if (quoted.length > 200) quoted = `${quoted.slice(0, 200)}...`
  const reason = `reading it threw ${quoted}`
  return new ValidationError(`invalid ${field}: ${reason}`, { field, reason })
}

/** `object[key]`; a getter or Proxy trap that throws is a `ValidationError` naming `field`
 * (the key unless given). */
function readProp(object, key, field = key) {
  try {
    return object[key]
  } catch (e) {
    throw readThrew(field, e)
  }
}

/** `options`' own properties among `fields` as a plain object, each read once: a getter or
 * Proxy trap that throws is a `ValidationError` naming it. `options` not an object: as is. */
function snapshot(options, fields) {
  if (options === null || typeof options !== 'object') return options
  const out = {}
  for (const field of fields) {
    const v = readProp(options, field)
    if (v !== undefined) out[field] = v
  }
  return out
}

module.exports = { checkFields, readProp, readThrew, snapshot }
