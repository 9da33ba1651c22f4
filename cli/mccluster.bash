# Bash completion for mccluster's programs: mcclient, ipclusterd, mcengine.
# Installed as share/bash-completion/completions/{mcclient,ipclusterd,mcengine};
# or `source cli/mccluster.bash` by hand.
#
# Nothing here lists a command or an option: mcclient gives its words with
# `mcclient help --complete [COMMAND]` (from the tables its parser reads),
# ipclusterd and mcengine theirs in --help. Kernel names and the values of
# a kernel argument target= come from the running cluster (`mcclient
# kernels`), job ids from `mcclient --json jobs`; with no cluster there are
# none.

# COMPREPLY for the value of an option whose help calls it $1.
_mccluster_value () {
    local spec=$1 cur=$2
    case $spec in
        FILE|PATH) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
        DIR) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
        *) # Choices are lower case: "sum|hist2d", "hist2d"; "NXxNY" or "x0:x1,y0:y1" are not.
           if [[ $spec =~ ^[a-z0-9|]+$ ]]; then
               COMPREPLY=($(compgen -W "${spec//|/ }" -- "$cur"))
           fi ;;
    esac
}

# The kernels of the running cluster (`mcclient kernels` lists them, then
# its walker targets under a heading), its targets, and its recent job ids.
_mccluster_kernels () {
    "$1" --connect-timeout 1 "${@:2}" kernels 2>/dev/null | awk '/^targets / { exit } /^[^ ]/ { print $1 }'
}
_mccluster_targets () {
    "$1" --connect-timeout 1 "${@:2}" kernels 2>/dev/null | awk 'on && /^[^ ]/ { print $1 } /^targets / { on = 1 }'
}
_mccluster_jobs () {
    "$1" --connect-timeout 1 "${@:2}" --json jobs --limit 100 2>/dev/null \
        | grep -o '"job": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
}

_mcclient () {
    local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local i w cmd= at=0
    local -a global=()
    COMPREPLY=()
    # The global options, then the command.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --profile-dir) global+=("$w" "${COMP_WORDS[i+1]}"); i=$((i + 1)) ;;
            --connect-timeout) i=$((i + 1)) ;;
            -*) ;;
            *) cmd=$w; at=$i; break ;;
        esac
    done
    if [ -z "$cmd" ]; then
        case $prev in
            --profile-dir) _mccluster_value DIR "$cur"; return ;;
            --connect-timeout) return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--profile-dir --json --connect-timeout --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$("$prog" help --complete 2>/dev/null)" -- "$cur"))
        fi
        return
    fi
    # The command's arguments and options, as mcclient gives them.
    local args= name value
    local -A takes=()
    while read -r name value; do
        if [ "$name" = @args ]; then args=$value; else takes[$name]=$value; fi
    done < <("$prog" help --complete "$cmd" 2>/dev/null)
    value=${takes[$prev]:-}
    if [ $((COMP_CWORD - 1)) -gt "$at" ] && [ -n "$value" ] && [ "$value" != - ]; then
        _mccluster_value "$value" "$cur"
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${!takes[*]}" -- "$cur"))
        return
    fi
    # Words before this one that are no option nor an option's value.
    local words=0
    for ((i = at + 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == -* ]]; then
            value=${takes[$w]:-}
            [ -n "$value" ] && [ "$value" != - ] && i=$((i + 1))
        else
            words=$((words + 1))
        fi
    done
    # Sub-commands are the lower-case words of its arguments ("add|list|revoke ...").
    local subs
    subs=$(printf '%s\n' "$args" | grep -o '\(^\|[][ |]\)[a-z][a-z]*' | tr -d '[] |')
    if [ "$cmd" = help ]; then
        [ $words = 0 ] && COMPREPLY=($(compgen -W "$("$prog" help --complete 2>/dev/null)" -- "$cur"))
    elif [ -n "$subs" ] && [ $words = 0 ]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    elif [[ $args == *KERNEL* ]] && [ $words -ge 1 ] && [[ $cur == target=* ]]; then
        # A kernel argument target=NAME (the walker's): the cluster's targets.
        COMPREPLY=($(compgen -P target= -W "$(_mccluster_targets "$prog" "${global[@]}")" -- "${cur#target=}"))
    elif [[ $args == *KERNEL* ]] && [ $words -ge 1 ] \
         && [[ ( $cur == = && $prev == target ) || ( $prev == = && ${COMP_WORDS[COMP_CWORD-2]} == target ) ]]; then
        # The same where readline splits words at "=": target, =, NAME.
        [ "$cur" = = ] && cur=
        COMPREPLY=($(compgen -W "$(_mccluster_targets "$prog" "${global[@]}")" -- "$cur"))
    elif [[ $args == *KERNEL* ]] && [ $words = 0 ]; then
        COMPREPLY=($(compgen -W "$(_mccluster_kernels "$prog" "${global[@]}")" -- "$cur"))
    elif [[ $args == JOB* ]] && { [ $words = 0 ] || [[ $args == JOB...* ]]; }; then
        COMPREPLY=($(compgen -W "$(_mccluster_jobs "$prog" "${global[@]}")" -- "$cur"))
    fi
}

# ipclusterd and mcengine: options and their values from --help, kinds of
# launcher from its "Launchers" part.
_mccluster_daemon () {
    local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local help name value
    help=$("$prog" --help 2>/dev/null)
    local -A takes=()
    while read -r name value; do
        [ -n "$name" ] && takes[$name]=${value:--}
    done < <(printf '%s\n' "$help" \
             | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\)\( \([A-Z][A-Z=:,.]*\)\)\{0,1\}\( .*\)\{0,1\}$/\2 \4/p')
    COMPREPLY=()
    value=${takes[$prev]:-}
    if [ "$value" = KIND ]; then
        COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" | awk '/^Launchers/ { on = 1; next } on && /^  [a-z]+  / { print $1 }')" -- "$cur"))
    elif [ -n "$value" ] && [ "$value" != - ]; then
        _mccluster_value "$value" "$cur"
    elif [[ $cur == -* ]] || [ -z "$cur" ]; then
        COMPREPLY=($(compgen -W "${!takes[*]}" -- "$cur"))
    fi
}

complete -F _mcclient mcclient
complete -F _mccluster_daemon ipclusterd mcengine
