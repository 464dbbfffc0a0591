/*
 * Editor code shared by the pbx nodes, served by Node-RED from this package's resources/ folder
 * and loaded by each node's .html before its registerType. Everything provider-specific comes
 * from the provider registry, which scripts/build.js writes into providers.js beside this file
 * (window.PbxProviders, the same catalog GET pbx-config/providers serves): operation lists,
 * parameter rows and the support tables of the help.
 */
(function () {
    'use strict';

    var editor = (window.PbxEditor = window.PbxEditor || {});
    if (editor.setupActionNode) return; // loaded by an earlier node's .html

    var NS = '@callflow/node-red-pbx/pbx-config:';
    var TYPES = ['msg', 'flow', 'global', 'str', 'env', 'jsonata'];
    var own = Object.prototype.hasOwnProperty;

    function t(key, substitutions) {
        return RED._(NS + key, substitutions);
    }

    // ---- The provider registry ----------------------------------------------------------------

    function catalog() {
        return window.PbxProviders || {};
    }

    function providerIds() {
        return Object.keys(catalog());
    }

    /** The catalog entry of a provider id, or null for an id this package does not have. */
    function provider(id) {
        return own.call(catalog(), id) ? catalog()[id] : null;
    }

    function isProvider(id) {
        return !!provider(id);
    }

    /** The editor's language among those the registry's texts come in. */
    function language() {
        var lang = RED.i18n && typeof RED.i18n.lang === 'function' ? RED.i18n.lang() : 'en-US';
        return lang || 'en-US';
    }

    /** A registry text ({'en-US': ..., 'zh-CN': ...}) in the editor's language. */
    function localized(text) {
        if (!text) return '';
        return text[language()] || text['en-US'] || '';
    }

    function label(id) {
        var p = provider(id);
        return p ? localized(p.label) : id;
    }

    /** Operation names of a node kind over every provider, in registry order: what the node may name. */
    function operationNames(kind) {
        var names = [];
        providerIds().forEach(function (id) {
            provider(id).operations.forEach(function (o) {
                if (o.node === kind && names.indexOf(o.name) === -1) names.push(o.name);
            });
        });
        return names;
    }

    /** {operation: {required, optional}} of one provider and node kind. */
    function operationsOf(id, kind) {
        var specs = {};
        var p = provider(id);
        (p ? p.operations : []).forEach(function (o) {
            if (o.node === kind) specs[o.name] = { required: o.required, optional: o.optional };
        });
        return specs;
    }

    /** A `validate` for an operation property: empty (from msg) or an operation of the node kind. */
    function operationValidator(kind) {
        return function (v) {
            return !v || operationNames(kind).indexOf(v) !== -1;
        };
    }

    /** A `validate` for a parameter: empty is read from msg.payload.<param> at runtime, whatever its type. */
    function optionalTypedInput(typeProperty) {
        return function (v, opt) {
            if (v === '' || v === undefined || v === null) return true;
            return RED.validators.typedInput(typeProperty).call(this, v, opt);
        };
    }

    /**
     * A webhook hint of the registry with the URL filled in: `{url}` is the URL, `{url?name=value}`
     * the URL with that query parameter added.
     */
    function fillHint(template, url) {
        return String(template || '').replace(/\{url(\?[^}]*)?\}/g, function (_all, query) {
            if (!query) return url;
            return url + (url.indexOf('?') === -1 ? '?' : '&') + query.slice(1);
        });
    }

    // ---- Every pbx node: the config node select ----------------------------------------------

    /**
     * A node with no pbx-config yet gets the only one the editor offers (Node-RED leaves the
     * select on "add new" / "none"); with several, the user chooses. Call first in oneditprepare,
     * after Node-RED has filled #node-input-pbx.
     */
    function preselectOnlyConfig(node) {
        if (node.pbx) return;
        var $pbx = $('#node-input-pbx');
        var ids = $pbx
            .find('option')
            .map(function () {
                return this.value;
            })
            .get()
            .filter(function (id) {
                return id && id !== '_ADD_';
            });
        if (ids.length === 1 && $pbx.val() !== ids[0]) $pbx.val(ids[0]).trigger('change');
    }

    // ---- Action nodes: operation list and parameter rows -------------------------------------

    /**
     * Fills the operation select of an action node with what the selected config node's provider
     * supports, and shows only the parameter rows the chosen operation uses.
     * options: kind ('call'|'status'|'queue'), property ('operation'|'query'), hidden (optional
     * function: true hides every parameter row), complete ({param: kind} for parameters whose
     * `str` value completes from the PBX, see paramTypes()).
     */
    function setupActionNode(node, options) {
        preselectOnlyConfig(node);
        var params = $('.pbx-param-row')
            .map(function () {
                return $(this).attr('data-param');
            })
            .get();
        params.forEach(function (p) {
            var complete = options.complete && options.complete[p];
            $('#node-input-' + p).typedInput({
                default: 'str',
                typeField: '#node-input-' + p + 'Type',
                types: complete ? paramTypes(TYPES, complete) : TYPES
            });
        });
        var $op = $('#node-input-' + options.property);
        var $pbx = $('#node-input-pbx');
        var $note = $('.pbx-op-note');
        var specs = null;
        var providerLabel = '';
        var first = true;

        /** The node type's text for `key` (under `<type>.`), or `fallback` when it has none. */
        function ownText(key, fallback, substitutions) {
            var full = node.type + '.' + key;
            var text = node._(full, substitutions);
            return text && text !== full ? text : fallback;
        }

        function operationLabel(op) {
            return ownText('operations.' + op, op);
        }

        /**
         * Every operation of the node kind: those the selected provider supports first, then the
         * others greyed out with the reason (the saved one stays selectable, so it is not lost).
         */
        function fill() {
            var keep = first ? node[options.property] || '' : $op.val() || '';
            first = false;
            $op.empty();
            $('<option>').val('').text(operationLabel('fromMsg')).appendTo($op);
            var names = operationNames(options.kind);
            if (keep && names.indexOf(keep) === -1) names.push(keep);
            var supported = function (op) {
                return !specs || own.call(specs, op);
            };
            var reason = ownText('editor.unsupported-by', t('pbx-config.editor.unsupported'), { provider: providerLabel });
            names.filter(supported).forEach(function (op) {
                $('<option>').val(op).text(operationLabel(op)).appendTo($op);
            });
            names
                .filter(function (op) {
                    return !supported(op);
                })
                .forEach(function (op) {
                    $('<option>')
                        .val(op)
                        .text(operationLabel(op) + ' (' + reason + ')')
                        .prop('disabled', op !== keep)
                        .appendTo($op);
                });
            $op.val(keep);
            refresh();
        }

        function refresh() {
            var op = $op.val() || '';
            var hideAll = typeof options.hidden === 'function' && options.hidden();
            var used = op ? (specs && own.call(specs, op) && specs[op]) || usageOf(options.kind, op) : null;
            params.forEach(function (p) {
                var $row = $('.pbx-param-row[data-param="' + p + '"]');
                var $input = $('#node-input-' + p);
                var required = !!used && used.required.indexOf(p) !== -1;
                var optional = !!used && used.optional.indexOf(p) !== -1;
                $row.toggle(!hideAll && (!used || required || optional));
                if ($input.data('pbx-placeholder') === undefined) $input.data('pbx-placeholder', $input.attr('placeholder') || '');
                var placeholder = $input.data('pbx-placeholder');
                $input.attr('placeholder', optional ? placeholder + ' (' + t('pbx-config.editor.optional') + ')' : placeholder);
            });
        }

        function load() {
            var id = $pbx.val();
            var config = id && id !== '_ADD_' ? RED.nodes.node(id) : null;
            var providerId = config && config.provider;
            specs = null;
            providerLabel = providerId ? label(providerId) : '';
            if (!providerId) {
                note('');
            } else if (!isProvider(providerId)) {
                note(t('pbx-config.editor.provider-missing', { provider: providerId }));
            } else {
                specs = operationsOf(providerId, options.kind);
                note(t('pbx-config.editor.operations-for', { provider: label(providerId) }));
            }
            fill();
        }

        function note(text) {
            $note.text(text || '').toggle(!!text);
        }

        $op.on('change', refresh);
        $pbx.on('change', load);
        load();
        return { refresh: refresh };
    }

    /**
     * The parameters an operation uses when no provider is selected: every parameter any provider
     * takes for it, required where all of them require it.
     */
    function usageOf(kind, op) {
        var required = null;
        var all = [];
        providerIds().forEach(function (id) {
            var spec = operationsOf(id, kind)[op];
            if (!spec) return;
            required = required === null ? spec.required.slice() : required.filter(function (p) {
                return spec.required.indexOf(p) !== -1;
            });
            spec.required.concat(spec.optional).forEach(function (p) {
                if (all.indexOf(p) === -1) all.push(p);
            });
        });
        if (required === null) return { required: [], optional: [] };
        return {
            required: required,
            optional: all.filter(function (p) {
                return required.indexOf(p) === -1;
            })
        };
    }

    // ---- Completions for the extension / queue / group TypedInputs ------------------------------

    var DIRECTORY_TTL_MS = 30000;
    var STORED = '__PWRD__';
    var directoryCache = {};

    /**
     * The entries of one directory kind (extensions, queues, ringgroups, usergroups) of a config
     * node: GET for a deployed, unchanged one; else POST of the config node's current values, with
     * credentials not typed in this session sent as the stored-credential marker (the runtime uses
     * stored ones only for the deployed node's own provider and base URL). Resolves to [] on failure.
     */
    function loadDirectory(configId, kind) {
        var config = RED.nodes.node(configId);
        if (!config || !isProvider(config.provider)) return $.Deferred().resolve([]).promise();
        var request;
        var key;
        if (!config.changed) {
            key = configId + '|' + kind;
            request = { url: 'pbx-config/' + encodeURIComponent(configId) + '/directory', type: 'GET', data: { kind: kind } };
        } else {
            var typed = config.credentials || {};
            var credentials = {};
            provider(config.provider).credentials.forEach(function (c) {
                var v = typed[c.name];
                credentials[c.name] = typeof v === 'string' && v && v !== STORED ? v : STORED;
            });
            var body = $.extend(settingsOf(config.provider, config), {
                id: configId,
                kind: kind,
                provider: config.provider,
                baseUrl: String(config.baseUrl || '').trim(),
                timeout: Number(config.timeout) || 10000,
                rejectUnauthorized: config.rejectUnauthorized !== false && config.rejectUnauthorized !== 'false',
                credentials: credentials
            });
            key = JSON.stringify(body);
            request = { url: 'pbx-config/directory', type: 'POST', contentType: 'application/json', data: key };
        }
        var hit = directoryCache[key];
        if (hit && Date.now() - hit.at < DIRECTORY_TTL_MS) return hit.promise;
        var promise = $.ajax($.extend({ dataType: 'json' }, request)).then(
            function (answer) {
                if (!answer || !answer.ok) delete directoryCache[key];
                return (answer && answer.ok && answer.entries) || [];
            },
            function () {
                delete directoryCache[key];
                return [];
            }
        );
        directoryCache[key] = { at: Date.now(), promise: promise };
        return promise;
    }

    /** {name: value} of a provider's extra settings, read from `source` (a config node or the dialog's values). */
    function settingsOf(id, source) {
        var values = {};
        (provider(id) ? provider(id).settings : []).forEach(function (s) {
            values[s.name] = typeof source === 'function' ? source(s.name) : source[s.name];
        });
        return values;
    }

    function completionLabel(entry) {
        var $label = $('<div>').css({ display: 'flex', gap: '8px' });
        $('<span class="red-ui-autoComplete-completion">').text(entry.value).appendTo($label);
        var details = [entry.name, entry.state].filter(Boolean).join(' · ');
        if (details) $('<span>').css('opacity', 0.7).text(details).appendTo($label);
        return $label;
    }

    /**
     * A search function for Node-RED's autoComplete (value, done): the entries of `kind` (a
     * directory kind, or a function returning one; null means none) of the config node selected in
     * #node-input-pbx whose number or name contains what was typed.
     */
    function completer(kind) {
        return function (value, done) {
            var configId = $('#node-input-pbx').val();
            var k = typeof kind === 'function' ? kind() : kind;
            if (!configId || configId === '_ADD_' || !k) {
                done([]);
                return;
            }
            loadDirectory(configId, k).then(function (entries) {
                var term = String(value || '').trim().toLowerCase();
                var matches = entries.filter(function (e) {
                    return !term || e.value.toLowerCase().indexOf(term) !== -1 ||
                        (!!e.name && e.name.toLowerCase().indexOf(term) !== -1);
                });
                done(matches.slice(0, 100).map(function (e) {
                    return { value: e.value, label: completionLabel(e) };
                }));
            });
        };
    }

    /**
     * A search function for Node-RED's autoComplete on a comma-separated list (pbx-stats' Queues):
     * completes the term after the last comma as completer(kind) does, leaves out entries the list
     * already names, and keeps the terms before it when an entry is chosen.
     */
    function listCompleter(kind) {
        var search = completer(kind);
        return function (value, done) {
            var text = String(value || '');
            var cut = text.lastIndexOf(',') + 1;
            var head = cut ? text.slice(0, cut) + ' ' : '';
            var named = text
                .slice(0, cut)
                .split(',')
                .map(function (term) {
                    return term.trim();
                });
            search(text.slice(cut), function (matches) {
                done(matches
                    .filter(function (m) {
                        return named.indexOf(m.value) === -1;
                    })
                    .map(function (m) {
                        return { value: head + m.value, label: m.label };
                    }));
            });
        };
    }

    /**
     * TypedInput types for a parameter whose `str` value completes from the PBX (TypedInput's own
     * autoComplete option, Node-RED 2.1+): `kind` as for completer().
     */
    function paramTypes(types, kind) {
        return types.map(function (type) {
            if (type !== 'str') return type;
            return { value: 'str', label: 'string', icon: 'red/images/typedInput/az.svg', autoComplete: completer(kind) };
        });
    }

    // ---- Help: the support tables --------------------------------------------------------------

    function paramList(spec) {
        var list = spec.required.concat(spec.optional.map(function (p) {
            return t('pbx-config.help.optional', { param: p });
        }));
        return list.length ? list.join(', ') : '—';
    }

    /** Rows operation | parameters | providers; providers that take an operation differently get their own row. */
    function supportTable(kind) {
        var $table = $('<table class="pbx-support-table">');
        $('<tr>')
            .append($('<th>').text(t('pbx-config.help.operation')))
            .append($('<th>').text(t('pbx-config.help.parameters')))
            .append($('<th>').text(t('pbx-config.help.providers')))
            .appendTo($table);
        operationNames(kind).forEach(function (op) {
            var rows = [];
            providerIds().forEach(function (id) {
                var spec = operationsOf(id, kind)[op];
                if (!spec) return;
                var params = paramList(spec);
                var row = rows.filter(function (r) {
                    return r.params === params;
                })[0];
                if (row) row.providers.push(label(id));
                else rows.push({ params: params, providers: [label(id)] });
            });
            rows.forEach(function (row) {
                $('<tr>')
                    .append($('<td>').append($('<code>').text(op)))
                    .append($('<td>').text(row.params))
                    .append($('<td>').text(row.providers.join(', ')))
                    .appendTo($table);
            });
        });
        return $table;
    }

    /** Per provider: its id, credentials, an example base URL and how to point its webhooks here. */
    function providerList() {
        var $list = $('<dl class="message-properties pbx-provider-list">');
        providerIds().forEach(function (id) {
            var p = provider(id);
            $('<dt>').text(label(id) + ' ').append($('<span class="property-type">').text(id)).appendTo($list);
            var credentials = p.credentials.map(function (c) {
                return localized(c.label);
            });
            var $dd = $('<dd>').appendTo($list);
            $('<div>').text(t('pbx-config.help.credentials') + ' ' + (credentials.join(', ') || '—')).appendTo($dd);
            p.settings.forEach(function (s) {
                var choices = s.options.map(function (o) {
                    return localized(o.label);
                });
                $('<div>').text(localized(s.label) + ': ' + choices.join(' / ')).appendTo($dd);
            });
            $('<div>').text(t('pbx-config.help.base-url') + ' ').append($('<code>').text(p.baseUrlPlaceholder)).appendTo($dd);
            $('<div>').text(t('pbx-config.help.webhook')).appendTo($dd);
            $('<pre class="pbx-hint">').text(fillHint(localized(p.webhookHint), t('pbx-config.help.webhook-url'))).appendTo($dd);
        });
        return $list;
    }

    /**
     * Fills the generated parts into a node type's help: each `<div class="pbx-support"
     * data-node="kind">` becomes that node kind's support table, `<div class="pbx-providers">` the
     * provider list. Node-RED reads the help from its script element whenever it shows it.
     */
    function completeHelp(type) {
        $('script[data-help-name="' + type + '"]').each(function () {
            var $help = $(this);
            var $doc = $('<div>').html($help.html());
            $doc.find('div.pbx-support').each(function () {
                $(this).replaceWith(supportTable($(this).attr('data-node')));
            });
            $doc.find('div.pbx-providers').each(function () {
                $(this).replaceWith(providerList());
            });
            $help.text($doc.html());
        });
    }

    $.extend(editor, {
        providerIds: providerIds,
        provider: provider,
        isProvider: isProvider,
        localized: localized,
        label: label,
        operationNames: operationNames,
        operationValidator: operationValidator,
        optionalTypedInput: optionalTypedInput,
        fillHint: fillHint,
        settingsOf: settingsOf,
        preselectOnlyConfig: preselectOnlyConfig,
        setupActionNode: setupActionNode,
        loadDirectory: loadDirectory,
        completer: completer,
        listCompleter: listCompleter,
        paramTypes: paramTypes,
        completeHelp: completeHelp,
        t: t,
        STORED: STORED
    });
})();
