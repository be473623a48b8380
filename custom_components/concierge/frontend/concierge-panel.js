var ft=globalThis,gt=ft.ShadowRoot&&(ft.ShadyCSS===void 0||ft.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,xt=Symbol(),Vt=new WeakMap,st=class{constructor(t,e,i){if(this._$cssResult$=!0,i!==xt)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(gt&&t===void 0){let i=e!==void 0&&e.length===1;i&&(t=Vt.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),i&&Vt.set(e,t))}return t}toString(){return this.cssText}},Yt=n=>new st(typeof n=="string"?n:n+"",void 0,xt),M=(n,...t)=>{let e=n.length===1?n[0]:t.reduce((i,r,s)=>i+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(r)+n[s+1],n[0]);return new st(e,n,xt)},Jt=(n,t)=>{if(gt)n.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let i=document.createElement("style"),r=ft.litNonce;r!==void 0&&i.setAttribute("nonce",r),i.textContent=e.cssText,n.appendChild(i)}},At=gt?n=>n:n=>n instanceof CSSStyleSheet?(t=>{let e="";for(let i of t.cssRules)e+=i.cssText;return Yt(e)})(n):n;var{is:we,defineProperty:ve,getOwnPropertyDescriptor:xe,getOwnPropertyNames:Ae,getOwnPropertySymbols:Ee,getPrototypeOf:Se}=Object,mt=globalThis,Qt=mt.trustedTypes,Te=Qt?Qt.emptyScript:"",Ce=mt.reactiveElementPolyfillSupport,nt=(n,t)=>n,Et={toAttribute(n,t){switch(t){case Boolean:n=n?Te:null;break;case Object:case Array:n=n==null?n:JSON.stringify(n)}return n},fromAttribute(n,t){let e=n;switch(t){case Boolean:e=n!==null;break;case Number:e=n===null?null:Number(n);break;case Object:case Array:try{e=JSON.parse(n)}catch{e=null}}return e}},te=(n,t)=>!we(n,t),Xt={attribute:!0,type:String,converter:Et,reflect:!1,useDefault:!1,hasChanged:te};Symbol.metadata??=Symbol("metadata"),mt.litPropertyMetadata??=new WeakMap;var G=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Xt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let i=Symbol(),r=this.getPropertyDescriptor(t,i,e);r!==void 0&&ve(this.prototype,t,r)}}static getPropertyDescriptor(t,e,i){let{get:r,set:s}=xe(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:r,set(o){let a=r?.call(this);s?.call(this,o),this.requestUpdate(t,a,i)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Xt}static _$Ei(){if(this.hasOwnProperty(nt("elementProperties")))return;let t=Se(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(nt("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(nt("properties"))){let e=this.properties,i=[...Ae(e),...Ee(e)];for(let r of i)this.createProperty(r,e[r])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[i,r]of e)this.elementProperties.set(i,r)}this._$Eh=new Map;for(let[e,i]of this.elementProperties){let r=this._$Eu(e,i);r!==void 0&&this._$Eh.set(r,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let i=new Set(t.flat(1/0).reverse());for(let r of i)e.unshift(At(r))}else t!==void 0&&e.push(At(t));return e}static _$Eu(t,e){let i=e.attribute;return i===!1?void 0:typeof i=="string"?i:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let i of e.keys())this.hasOwnProperty(i)&&(t.set(i,this[i]),delete this[i]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Jt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,i){this._$AK(t,i)}_$ET(t,e){let i=this.constructor.elementProperties.get(t),r=this.constructor._$Eu(t,i);if(r!==void 0&&i.reflect===!0){let s=(i.converter?.toAttribute!==void 0?i.converter:Et).toAttribute(e,i.type);this._$Em=t,s==null?this.removeAttribute(r):this.setAttribute(r,s),this._$Em=null}}_$AK(t,e){let i=this.constructor,r=i._$Eh.get(t);if(r!==void 0&&this._$Em!==r){let s=i.getPropertyOptions(r),o=typeof s.converter=="function"?{fromAttribute:s.converter}:s.converter?.fromAttribute!==void 0?s.converter:Et;this._$Em=r;let a=o.fromAttribute(e,s.type);this[r]=a??this._$Ej?.get(r)??a,this._$Em=null}}requestUpdate(t,e,i,r=!1,s){if(t!==void 0){let o=this.constructor;if(r===!1&&(s=this[t]),i??=o.getPropertyOptions(t),!((i.hasChanged??te)(s,e)||i.useDefault&&i.reflect&&s===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,i))))return;this.C(t,e,i)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:i,reflect:r,wrapped:s},o){i&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),s!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||i||(e=void 0),this._$AL.set(t,e)),r===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[r,s]of this._$Ep)this[r]=s;this._$Ep=void 0}let i=this.constructor.elementProperties;if(i.size>0)for(let[r,s]of i){let{wrapped:o}=s,a=this[r];o!==!0||this._$AL.has(r)||a===void 0||this.C(r,void 0,s,a)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(i=>i.hostUpdate?.()),this.update(e)):this._$EM()}catch(i){throw t=!1,this._$EM(),i}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};G.elementStyles=[],G.shadowRootOptions={mode:"open"},G[nt("elementProperties")]=new Map,G[nt("finalized")]=new Map,Ce?.({ReactiveElement:G}),(mt.reactiveElementVersions??=[]).push("2.1.2");var Mt=globalThis,ee=n=>n,bt=Mt.trustedTypes,ie=bt?bt.createPolicy("lit-html",{createHTML:n=>n}):void 0,le="$lit$",F=`lit$${Math.random().toFixed(9).slice(2)}$`,ce="?"+F,Ne=`<${ce}>`,Q=document,at=()=>Q.createComment(""),lt=n=>n===null||typeof n!="object"&&typeof n!="function",Bt=Array.isArray,Pe=n=>Bt(n)||typeof n?.[Symbol.iterator]=="function",St=`[ 	
\f\r]`,ot=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,re=/-->/g,se=/>/g,Y=RegExp(`>|${St}(?:([^\\s"'>=/]+)(${St}*=${St}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),ne=/'/g,oe=/"/g,de=/^(?:script|style|textarea|title)$/i,It=n=>(t,...e)=>({_$litType$:n,strings:t,values:e}),h=It(1),ei=It(2),ii=It(3),X=Symbol.for("lit-noChange"),y=Symbol.for("lit-nothing"),ae=new WeakMap,J=Q.createTreeWalker(Q,129);function he(n,t){if(!Bt(n)||!n.hasOwnProperty("raw"))throw Error("invalid template strings array");return ie!==void 0?ie.createHTML(t):t}var De=(n,t)=>{let e=n.length-1,i=[],r,s=t===2?"<svg>":t===3?"<math>":"",o=ot;for(let a=0;a<e;a++){let l=n[a],g,b,_=-1,m=0;for(;m<l.length&&(o.lastIndex=m,b=o.exec(l),b!==null);)m=o.lastIndex,o===ot?b[1]==="!--"?o=re:b[1]!==void 0?o=se:b[2]!==void 0?(de.test(b[2])&&(r=RegExp("</"+b[2],"g")),o=Y):b[3]!==void 0&&(o=Y):o===Y?b[0]===">"?(o=r??ot,_=-1):b[1]===void 0?_=-2:(_=o.lastIndex-b[2].length,g=b[1],o=b[3]===void 0?Y:b[3]==='"'?oe:ne):o===oe||o===ne?o=Y:o===re||o===se?o=ot:(o=Y,r=void 0);let v=o===Y&&n[a+1].startsWith("/>")?" ":"";s+=o===ot?l+Ne:_>=0?(i.push(g),l.slice(0,_)+le+l.slice(_)+F+v):l+F+(_===-2?a:v)}return[he(n,s+(n[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),i]},ct=class n{constructor({strings:t,_$litType$:e},i){let r;this.parts=[];let s=0,o=0,a=t.length-1,l=this.parts,[g,b]=De(t,e);if(this.el=n.createElement(g,i),J.currentNode=this.el.content,e===2||e===3){let _=this.el.content.firstChild;_.replaceWith(..._.childNodes)}for(;(r=J.nextNode())!==null&&l.length<a;){if(r.nodeType===1){if(r.hasAttributes())for(let _ of r.getAttributeNames())if(_.endsWith(le)){let m=b[o++],v=r.getAttribute(_).split(F),D=/([.?@])?(.*)/.exec(m);l.push({type:1,index:s,name:D[2],strings:v,ctor:D[1]==="."?Ct:D[1]==="?"?Nt:D[1]==="@"?Pt:it}),r.removeAttribute(_)}else _.startsWith(F)&&(l.push({type:6,index:s}),r.removeAttribute(_));if(de.test(r.tagName)){let _=r.textContent.split(F),m=_.length-1;if(m>0){r.textContent=bt?bt.emptyScript:"";for(let v=0;v<m;v++)r.append(_[v],at()),J.nextNode(),l.push({type:2,index:++s});r.append(_[m],at())}}}else if(r.nodeType===8)if(r.data===ce)l.push({type:2,index:s});else{let _=-1;for(;(_=r.data.indexOf(F,_+1))!==-1;)l.push({type:7,index:s}),_+=F.length-1}s++}}static createElement(t,e){let i=Q.createElement("template");return i.innerHTML=t,i}};function et(n,t,e=n,i){if(t===X)return t;let r=i!==void 0?e._$Co?.[i]:e._$Cl,s=lt(t)?void 0:t._$litDirective$;return r?.constructor!==s&&(r?._$AO?.(!1),s===void 0?r=void 0:(r=new s(n),r._$AT(n,e,i)),i!==void 0?(e._$Co??=[])[i]=r:e._$Cl=r),r!==void 0&&(t=et(n,r._$AS(n,t.values),r,i)),t}var Tt=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:i}=this._$AD,r=(t?.creationScope??Q).importNode(e,!0);J.currentNode=r;let s=J.nextNode(),o=0,a=0,l=i[0];for(;l!==void 0;){if(o===l.index){let g;l.type===2?g=new dt(s,s.nextSibling,this,t):l.type===1?g=new l.ctor(s,l.name,l.strings,this,t):l.type===6&&(g=new Dt(s,this,t)),this._$AV.push(g),l=i[++a]}o!==l?.index&&(s=J.nextNode(),o++)}return J.currentNode=Q,r}p(t){let e=0;for(let i of this._$AV)i!==void 0&&(i.strings!==void 0?(i._$AI(t,i,e),e+=i.strings.length-2):i._$AI(t[e])),e++}},dt=class n{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,i,r){this.type=2,this._$AH=y,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=i,this.options=r,this._$Cv=r?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=et(this,t,e),lt(t)?t===y||t==null||t===""?(this._$AH!==y&&this._$AR(),this._$AH=y):t!==this._$AH&&t!==X&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):Pe(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==y&&lt(this._$AH)?this._$AA.nextSibling.data=t:this.T(Q.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:i}=t,r=typeof i=="number"?this._$AC(t):(i.el===void 0&&(i.el=ct.createElement(he(i.h,i.h[0]),this.options)),i);if(this._$AH?._$AD===r)this._$AH.p(e);else{let s=new Tt(r,this),o=s.u(this.options);s.p(e),this.T(o),this._$AH=s}}_$AC(t){let e=ae.get(t.strings);return e===void 0&&ae.set(t.strings,e=new ct(t)),e}k(t){Bt(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,i,r=0;for(let s of t)r===e.length?e.push(i=new n(this.O(at()),this.O(at()),this,this.options)):i=e[r],i._$AI(s),r++;r<e.length&&(this._$AR(i&&i._$AB.nextSibling,r),e.length=r)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let i=ee(t).nextSibling;ee(t).remove(),t=i}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},it=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,i,r,s){this.type=1,this._$AH=y,this._$AN=void 0,this.element=t,this.name=e,this._$AM=r,this.options=s,i.length>2||i[0]!==""||i[1]!==""?(this._$AH=Array(i.length-1).fill(new String),this.strings=i):this._$AH=y}_$AI(t,e=this,i,r){let s=this.strings,o=!1;if(s===void 0)t=et(this,t,e,0),o=!lt(t)||t!==this._$AH&&t!==X,o&&(this._$AH=t);else{let a=t,l,g;for(t=s[0],l=0;l<s.length-1;l++)g=et(this,a[i+l],e,l),g===X&&(g=this._$AH[l]),o||=!lt(g)||g!==this._$AH[l],g===y?t=y:t!==y&&(t+=(g??"")+s[l+1]),this._$AH[l]=g}o&&!r&&this.j(t)}j(t){t===y?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},Ct=class extends it{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===y?void 0:t}},Nt=class extends it{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==y)}},Pt=class extends it{constructor(t,e,i,r,s){super(t,e,i,r,s),this.type=5}_$AI(t,e=this){if((t=et(this,t,e,0)??y)===X)return;let i=this._$AH,r=t===y&&i!==y||t.capture!==i.capture||t.once!==i.once||t.passive!==i.passive,s=t!==y&&(i===y||r);r&&this.element.removeEventListener(this.name,this,i),s&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},Dt=class{constructor(t,e,i){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=i}get _$AU(){return this._$AM._$AU}_$AI(t){et(this,t)}};var Me=Mt.litHtmlPolyfillSupport;Me?.(ct,dt),(Mt.litHtmlVersions??=[]).push("3.3.3");var ue=(n,t,e)=>{let i=e?.renderBefore??t,r=i._$litPart$;if(r===void 0){let s=e?.renderBefore??null;i._$litPart$=r=new dt(t.insertBefore(at(),s),s,void 0,e??{})}return r._$AI(n),r};var Lt=globalThis,N=class extends G{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=ue(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return X}};N._$litElement$=!0,N.finalized=!0,Lt.litElementHydrateSupport?.({LitElement:N});var Be=Lt.litElementPolyfillSupport;Be?.({LitElement:N});(Lt.litElementVersions??=[]).push("4.2.2");var S={sites:n=>n.callWS({type:"concierge/sites"}),subscribeGrants:(n,t,e)=>n.connection.subscribeMessage(e,{type:"concierge/grants/subscribe",site_id:t}),createGrant:(n,t,e)=>n.callWS({type:"concierge/grants/create",site_id:t,...e}),updateGrant:(n,t,e,i)=>n.callWS({type:"concierge/grants/update",site_id:t,grant_id:e,...i}),checkGrant:(n,t,e)=>n.callWS({type:"concierge/grants/check",site_id:t,...e}),grantAction:(n,t,e,i)=>n.callWS({type:`concierge/grants/${e}`,site_id:t,grant_id:i}),createGuestLink:(n,t,e)=>n.callWS({type:"concierge/guest_links/create",site_id:t,grant_id:e}),guestLinks:(n,t,e)=>n.callWS({type:"concierge/guest_links/list",site_id:t,grant_id:e}),revokeGuestLink:(n,t,e)=>n.callWS({type:"concierge/guest_links/revoke",site_id:t,link_id:e}),carriers:(n,t)=>n.callWS({type:"concierge/carriers/list",site_id:t}),addCarrier:(n,t,e)=>n.callWS({type:"concierge/carriers/add",site_id:t,...e}),rotateKey:(n,t,e,i)=>n.callWS({type:"concierge/carriers/rotate_key",site_id:t,carrier_id:e,...i}),retireKey:(n,t,e,i)=>n.callWS({type:"concierge/carriers/retire_key",site_id:t,carrier_id:e,kid:i}),checkToken:(n,t,e)=>n.callWS({type:"concierge/tokens/check",site_id:t,token:e}),verifyAudit:(n,t)=>n.callWS({type:"concierge/audit/verify",site_id:t}),exportVisit:(n,t,e)=>n.callWS({type:"concierge/visits/export",site_id:t,visit_id:e}),visits:(n,t,e=50)=>n.callWS({type:"concierge/visits/list",site_id:t,limit:e})};function P(n){return n?typeof n=="string"?n:n.message||n.code||String(n):""}var kt={title:"Access",tab_grants:"Grants",tab_visits:"Visits",site:"Site",no_sites:"No Concierge home is set up yet.",search:"Search",new_grant:"New grant",loading:"Loading…",no_grants:"No grants yet.",no_match:"No grant matches the search.",col_label:"Label",col_kind:"Kind",col_doors:"Doors",col_window:"Window",col_state:"State",col_uses:"Uses",col_codes:"PIN on the locks",col_actions:"Actions",now_until:"now, until {end}",next:"next {start} – {end}",no_window:"no window ahead",weekly_every:"every {days}, {start}–{end}",kind_courier:"Courier",kind_cleaner:"Cleaner",kind_sitter:"Sitter",kind_guest:"Guest",kind_other:"Other",state_scheduled:"Scheduled",state_active:"Active",state_suspended:"Suspended",state_expired:"Expired",state_revoked:"Revoked",state_used_up:"Used up",code_programmed:"on the lock",code_pending:"pending",code_rejected:"rejected",code_no_free_slot:"no free slot",code_not_removed:"not removed",code_no_keypad:"not a keypad",edit:"Edit",suspend:"Suspend",resume:"Resume",revoke:"Revoke",guest_link:"Guest link",cancel:"Cancel",save:"Save",close:"Close",confirm:"Confirm",continue_anyway:"Save anyway",confirm_suspend:"Suspend “{label}”? Its PIN and links stop working until you resume it.",confirm_resume:"Resume “{label}”?",confirm_revoke:"Revoke “{label}” for good? This cannot be undone.",dialog_new:"New grant",dialog_edit:"Edit “{label}”",f_label:"Label",f_kind:"Kind",f_doors:"Doors",f_window:"When",f_one_off:"Once",f_weekly:"Every week",f_start:"From",f_end:"Until",f_weekdays:"Days",f_start_time:"From (time)",f_end_time:"Until (time)",f_valid_from:"First day (optional)",f_valid_until:"Last day (optional)",f_max_uses:"Maximum uses (optional)",f_max_visit:"Longest visit in minutes (optional)",f_pin:"PIN",f_pin_none:"No PIN",f_pin_typed:"Type a PIN",f_pin_generate:"Generate a PIN",f_pin_keep:"Keep the current PIN",f_pin_value:"PIN (4–10 digits)",f_remote_token:"Courier entry (signed courier tokens)",f_carriers:"Carriers",f_guest_link:"Allow guest links",f_alarm:"Alarm",alarm_disarm_for_visit:"Disarm for the visit",alarm_leave_alone:"Leave alone",f_require_camera:"Require a working camera",f_refuse_pets:"Refuse while pets are home",f_notify:"Notify me of visits",wd_mon:"Mon",wd_tue:"Tue",wd_wed:"Wed",wd_thu:"Thu",wd_fri:"Fri",wd_sat:"Sat",wd_sun:"Sun",err_label:"Give the grant a label.",err_doors:"Choose at least one door.",err_window:"Choose when the grant is open.",err_weekdays:"Choose at least one day.",err_pin:"A PIN has 4 to 10 digits.",warn_no_keypad:"The lock of {door} has no keypad: the PIN cannot open it.",outcome_requested:"requested",outcome_authorized:"admitted",outcome_denied:"denied",outcome_in_progress:"in progress",outcome_completed:"completed",outcome_aborted:"aborted",warnings_title:"Check before saving",pin_title:"The new PIN",pin_once:"This PIN is shown only now. Note it or pass it on.",copy:"Copy",copied:"Copied",share:"Share",link_title:"Guest link for “{label}”",link_expires:"Valid until {when}",link_scan:"Scan with a phone to open the guest page.",link_share_text:"Your guest link for {label}",no_visits:"No visits yet.",v_who:"Who",v_door:"Door",v_when:"When",v_outcome:"Outcome",v_evidence:"Evidence",running:"in progress",error:"Something went wrong: {message}",language:"Language",tab_carriers:"Carriers",no_carriers:"No carrier is set up for this home.",no_keys:"No keys yet.",key_kid:"Key ID",key_alg:"Algorithm",key_fingerprint:"Fingerprint",check_title:"Check a token",check_hint:"Paste a courier token to see what the courier door would answer. This only checks: no door is opened and nothing is recorded.",check_token:"Courier token",check_run:"Check",check_would_open:"Would open",check_refused:"Would be refused",check_status:"answer {status}",check_grant:"Grant: {label}",check_door:"Door: {door}",check_nothing_opened:"Only a check: no door was opened.",check_limits:"Not predicted: what is decided at the visit itself (pets at home, camera, alarm, a busy door).",guest_links:"Guest links",links_title:"Guest links of “{label}”",no_links:"No guest links yet.",link_until:"valid until {when}",link_state_active:"valid",link_state_revoked:"revoked",link_state_expired:"expired",confirm_revoke_link:"Revoke the guest link valid until {when}? Whoever has it can no longer open the door.",audit_verify:"Verify the audit log",audit_ok:"The audit log is intact ({records} records checked).",audit_problem:"The audit log is not intact: {problem} (after {records} good records).",audit_hash_mismatch:"a record was altered",audit_broken_link:"a record does not follow its predecessor",audit_sequence_gap:"records are missing from the sequence",audit_head_mismatch:"the end of the log does not match what was stored",audit_damaged_record:"a line of the log is damaged",audit_records_missing:"records were lost",export:"Export",add_carrier:"Add carrier",carrier_title_add:"Add a carrier",carrier_title_rotate:"New key for {name}",carrier_name:"Name",carrier_id:"Carrier ID (the issuer in its tokens)",carrier_id_hint:"Letters, digits and . _ : - as the carrier gives it, e.g. parcel-co.",carrier_kid:"Key ID (optional)",carrier_kid_hint:"The key ID (kid) in the carrier's tokens; empty: the key's fingerprint.",carrier_key:"Public key (PEM)",carrier_key_hint:"Paste the carrier's Ed25519 or P-256 public key, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----. Never a private key.",carrier_retire:"Retire an old key now",carrier_retire_none:"No, keep all keys for now",carrier_rotate_hint:"Both keys open during a rotation. Retire the old key once the carrier signs with the new one.",rotate_key:"Rotate key",retire_key:"Retire",confirm_retire_key:"Retire the key “{kid}” of {name}? Tokens signed with it no longer open the door.",evidence_title:"Evidence of {label}",evidence_open:"Open the original",evidence_show:"Show full size"},Ie={title:"Zugang",tab_grants:"Berechtigungen",tab_visits:"Besuche",site:"Ort",no_sites:"Es ist noch kein Concierge-Zuhause eingerichtet.",search:"Suchen",new_grant:"Neue Berechtigung",loading:"Wird geladen …",no_grants:"Noch keine Berechtigungen.",no_match:"Keine Berechtigung passt zur Suche.",col_label:"Name",col_kind:"Art",col_doors:"Türen",col_window:"Zeitfenster",col_state:"Status",col_uses:"Nutzungen",col_codes:"PIN an den Schlössern",col_actions:"Aktionen",now_until:"jetzt, bis {end}",next:"nächstes {start} – {end}",no_window:"kein Zeitfenster mehr",weekly_every:"jeden {days}, {start}–{end}",kind_courier:"Kurier",kind_cleaner:"Reinigung",kind_sitter:"Betreuung",kind_guest:"Gast",kind_other:"Sonstige",state_scheduled:"Geplant",state_active:"Aktiv",state_suspended:"Ausgesetzt",state_expired:"Abgelaufen",state_revoked:"Widerrufen",state_used_up:"Aufgebraucht",code_programmed:"im Schloss",code_pending:"ausstehend",code_rejected:"abgelehnt",code_no_free_slot:"kein freier Platz",code_not_removed:"nicht entfernt",code_no_keypad:"kein Tastenfeld",edit:"Bearbeiten",suspend:"Aussetzen",resume:"Fortsetzen",revoke:"Widerrufen",guest_link:"Gastlink",cancel:"Abbrechen",save:"Speichern",close:"Schließen",confirm:"Bestätigen",continue_anyway:"Trotzdem speichern",confirm_suspend:"„{label}“ aussetzen? PIN und Links gelten erst wieder nach dem Fortsetzen.",confirm_resume:"„{label}“ fortsetzen?",confirm_revoke:"„{label}“ endgültig widerrufen? Das lässt sich nicht rückgängig machen.",dialog_new:"Neue Berechtigung",dialog_edit:"„{label}“ bearbeiten",f_label:"Name",f_kind:"Art",f_doors:"Türen",f_window:"Wann",f_one_off:"Einmalig",f_weekly:"Jede Woche",f_start:"Von",f_end:"Bis",f_weekdays:"Tage",f_start_time:"Von (Uhrzeit)",f_end_time:"Bis (Uhrzeit)",f_valid_from:"Erster Tag (optional)",f_valid_until:"Letzter Tag (optional)",f_max_uses:"Höchstens so oft (optional)",f_max_visit:"Längster Besuch in Minuten (optional)",f_pin:"PIN",f_pin_none:"Keine PIN",f_pin_typed:"PIN eingeben",f_pin_generate:"PIN erzeugen",f_pin_keep:"Bisherige PIN behalten",f_pin_value:"PIN (4–10 Ziffern)",f_remote_token:"Kurierzugang (signierte Kurier-Tokens)",f_carriers:"Zusteller",f_guest_link:"Gastlinks erlauben",f_alarm:"Alarmanlage",alarm_disarm_for_visit:"Für den Besuch unscharf schalten",alarm_leave_alone:"Nicht verändern",f_require_camera:"Nur mit funktionierender Kamera",f_refuse_pets:"Ablehnen, wenn Haustiere zu Hause sind",f_notify:"Mich über Besuche benachrichtigen",wd_mon:"Mo",wd_tue:"Di",wd_wed:"Mi",wd_thu:"Do",wd_fri:"Fr",wd_sat:"Sa",wd_sun:"So",err_label:"Gib der Berechtigung einen Namen.",err_doors:"Wähle mindestens eine Tür.",err_window:"Wähle, wann die Berechtigung gilt.",err_weekdays:"Wähle mindestens einen Tag.",err_pin:"Eine PIN hat 4 bis 10 Ziffern.",warn_no_keypad:"Das Schloss von {door} hat kein Tastenfeld: Die PIN kann es nicht öffnen.",outcome_requested:"angefragt",outcome_authorized:"eingelassen",outcome_denied:"abgelehnt",outcome_in_progress:"läuft",outcome_completed:"abgeschlossen",outcome_aborted:"abgebrochen",warnings_title:"Vor dem Speichern prüfen",pin_title:"Die neue PIN",pin_once:"Diese PIN wird nur jetzt angezeigt. Notiere sie oder gib sie weiter.",copy:"Kopieren",copied:"Kopiert",share:"Teilen",link_title:"Gastlink für „{label}“",link_expires:"Gültig bis {when}",link_scan:"Mit dem Handy scannen, um die Gastseite zu öffnen.",link_share_text:"Dein Gastlink für {label}",no_visits:"Noch keine Besuche.",v_who:"Wer",v_door:"Tür",v_when:"Wann",v_outcome:"Ergebnis",v_evidence:"Nachweise",running:"läuft",error:"Etwas ist schiefgegangen: {message}",language:"Sprache",tab_carriers:"Zusteller",no_carriers:"Für dieses Zuhause ist kein Zusteller eingerichtet.",no_keys:"Noch keine Schlüssel.",key_kid:"Schlüssel-ID",key_alg:"Verfahren",key_fingerprint:"Fingerabdruck",check_title:"Token prüfen",check_hint:"Füge ein Kurier-Token ein, um zu sehen, was die Kuriertür antworten würde. Das ist nur eine Prüfung: Es wird keine Tür geöffnet und nichts aufgezeichnet.",check_token:"Kurier-Token",check_run:"Prüfen",check_would_open:"Würde öffnen",check_refused:"Würde abgelehnt",check_status:"Antwort {status}",check_grant:"Berechtigung: {label}",check_door:"Tür: {door}",check_nothing_opened:"Nur eine Prüfung: Es wurde keine Tür geöffnet.",check_limits:"Nicht vorhergesagt: was erst beim Besuch entschieden wird (Haustiere zu Hause, Kamera, Alarmanlage, eine belegte Tür).",guest_links:"Gastlinks",links_title:"Gastlinks von „{label}“",no_links:"Noch keine Gastlinks.",link_until:"gültig bis {when}",link_state_active:"gültig",link_state_revoked:"widerrufen",link_state_expired:"abgelaufen",confirm_revoke_link:"Den Gastlink, gültig bis {when}, widerrufen? Wer ihn hat, kann die Tür dann nicht mehr öffnen.",audit_verify:"Protokoll prüfen",audit_ok:"Das Protokoll ist unversehrt ({records} Einträge geprüft).",audit_problem:"Das Protokoll ist nicht unversehrt: {problem} (nach {records} einwandfreien Einträgen).",audit_hash_mismatch:"ein Eintrag wurde verändert",audit_broken_link:"ein Eintrag passt nicht zu seinem Vorgänger",audit_sequence_gap:"in der Folge fehlen Einträge",audit_head_mismatch:"das Ende des Protokolls stimmt nicht mit dem gespeicherten überein",audit_damaged_record:"eine Zeile des Protokolls ist beschädigt",audit_records_missing:"Einträge sind verloren gegangen",export:"Exportieren",add_carrier:"Zusteller hinzufügen",carrier_title_add:"Einen Zusteller hinzufügen",carrier_title_rotate:"Neuer Schlüssel für {name}",carrier_name:"Name",carrier_id:"Zusteller-ID (der Aussteller in seinen Tokens)",carrier_id_hint:"Buchstaben, Ziffern und . _ : - so, wie der Zusteller sie angibt, z. B. parcel-co.",carrier_kid:"Schlüssel-ID (optional)",carrier_kid_hint:"Die Schlüssel-ID (kid) in den Tokens des Zustellers; leer: der Fingerabdruck des Schlüssels.",carrier_key:"Öffentlicher Schlüssel (PEM)",carrier_key_hint:"Füge den öffentlichen Ed25519- oder P-256-Schlüssel des Zustellers ein, von -----BEGIN PUBLIC KEY----- bis -----END PUBLIC KEY-----. Niemals einen privaten Schlüssel.",carrier_retire:"Einen alten Schlüssel jetzt zurückziehen",carrier_retire_none:"Nein, vorerst alle Schlüssel behalten",carrier_rotate_hint:"Während des Wechsels öffnen beide Schlüssel. Ziehe den alten zurück, sobald der Zusteller mit dem neuen signiert.",rotate_key:"Schlüssel wechseln",retire_key:"Zurückziehen",confirm_retire_key:"Den Schlüssel „{kid}“ von {name} zurückziehen? Damit signierte Tokens öffnen die Tür nicht mehr.",evidence_title:"Nachweise von {label}",evidence_open:"Original öffnen",evidence_show:"In voller Größe zeigen"},Le={en:kt,de:Ie};function _e(n){let t=String(n||"en").toLowerCase().split("-")[0];return Le[t]||kt}function L(n,t,e={}){return(n[t]??kt[t]??t).replace(/\{(\w+)\}/g,(r,s)=>String(e[s]??""))}function U(n,t,e){let i=`${t}_${e}`;return n[i]??kt[i]??String(e)}var ht=["mon","tue","wed","thu","fri","sat","sun"];function H(n){return{timeZone:(n?.locale?.time_zone==="local"?void 0:n?.config?.time_zone)||void 0,locale:n?.locale?.language||n?.language||"en"}}var pe=new Map;function Rt(n,t){let e=`${n.locale}|${n.timeZone}|${JSON.stringify(t)}`,i=pe.get(e);return i||(i=new Intl.DateTimeFormat(n.locale,{...t,timeZone:n.timeZone}),pe.set(e,i)),i}function W(n,t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?String(t):Rt(n,{weekday:"short",day:"numeric",month:"short",hour:"2-digit",minute:"2-digit"}).format(e)}function yt(n,t){return t?Rt(n,{hour:"2-digit",minute:"2-digit"}).format(new Date(t)):""}function Ot(n,t){if(!t)return"";let e=Object.fromEntries(Rt(n,{year:"numeric",month:"2-digit",day:"2-digit",hour:"2-digit",minute:"2-digit",hourCycle:"h23"}).formatToParts(new Date(t)).map(i=>[i.type,i.value]));return`${e.year}-${e.month}-${e.day}T${e.hour}:${e.minute}`}function ut(n,t){if(!t)return null;let[e,i]=t.split("T"),[r,s,o]=e.split("-").map(Number),[a,l]=(i||"00:00").split(":").map(Number),g=Date.UTC(r,s-1,o,a,l),b=g;for(let _=0;_<2;_+=1){let m=Ot(n,new Date(b).toISOString()),[v,D]=m.split("T"),[T,B,z]=v.split("-").map(Number),[K,wt]=D.split(":").map(Number);b+=g-Date.UTC(T,B-1,z,K,wt)}return new Date(b).toISOString()}var R=M`
  :host {
    color: var(--primary-text-color, #212121);
    font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, sans-serif));
    font-size: 14px;
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 6px;
    border: 1px solid var(--divider-color, #ccc);
    background: var(--card-background-color, #fff);
    color: var(--primary-color, #03a9f4);
    padding: 6px 12px;
    min-height: 36px;
  }
  button.primary {
    background: var(--primary-color, #03a9f4);
    border-color: var(--primary-color, #03a9f4);
    color: var(--text-primary-color, #fff);
  }
  button.danger {
    color: var(--error-color, #db4437);
  }
  button.danger.primary {
    background: var(--error-color, #db4437);
    border-color: var(--error-color, #db4437);
    color: var(--text-primary-color, #fff);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input, select {
    font: inherit;
    color: var(--primary-text-color, #212121);
    background: var(--card-background-color, #fff);
    border: 1px solid var(--divider-color, #ccc);
    border-radius: 6px;
    padding: 6px 8px;
    min-height: 36px;
    box-sizing: border-box;
  }
  input[type="checkbox"], input[type="radio"] {
    min-height: auto;
    accent-color: var(--primary-color, #03a9f4);
  }
  .overlay {
    position: fixed;
    inset: 0;
    background: rgba(0, 0, 0, 0.45);
    display: flex;
    align-items: center;
    justify-content: center;
    z-index: 10;
  }
  .dialog {
    background: var(--card-background-color, #fff);
    color: var(--primary-text-color, #212121);
    border-radius: var(--ha-card-border-radius, 12px);
    padding: 16px 20px;
    width: min(560px, calc(100vw - 16px));
    max-height: calc(100vh - 32px);
    overflow: auto;
    box-sizing: border-box;
  }
  .dialog h2 {
    margin: 0 0 12px;
    font-size: 20px;
    font-weight: 500;
  }
  .buttons {
    display: flex;
    gap: 8px;
    justify-content: flex-end;
    flex-wrap: wrap;
    margin-top: 16px;
  }
  .error {
    color: var(--error-color, #db4437);
  }
  .warning {
    color: var(--warning-color, #ffa600);
  }
  .muted {
    color: var(--secondary-text-color, #727272);
  }
`;var fe=M`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--primary-background-color, #fafafa);
      }
      .toolbar {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        padding: 8px 16px;
        background: var(--app-header-background-color, var(--primary-color, #03a9f4));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
      }
      .toolbar h1 {
        font-size: 20px;
        font-weight: 400;
        margin: 0 8px 0 0;
      }
      nav {
        display: flex;
        gap: 4px;
      }
      .tab {
        background: transparent;
        border: none;
        color: inherit;
        opacity: 0.75;
        border-bottom: 2px solid transparent;
        border-radius: 0;
      }
      .tab.on {
        opacity: 1;
        border-bottom-color: currentColor;
      }
      .site {
        margin-left: auto;
        display: flex;
        gap: 6px;
        align-items: center;
      }
      .content {
        padding: 16px;
        max-width: 1400px;
        margin: 0 auto;
      }
      .filters {
        display: flex;
        gap: 8px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .search {
        flex: 1 1 200px;
      }
      table.grants {
        width: 100%;
        border-collapse: collapse;
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        overflow: hidden;
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
      }
      th, td {
        text-align: left;
        padding: 8px 10px;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
        vertical-align: top;
      }
      th {
        font-weight: 500;
        color: var(--secondary-text-color, #727272);
      }
      .state {
        padding: 2px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
        white-space: nowrap;
      }
      .state.active {
        background: var(--success-color, #43a047);
        color: #fff;
      }
      .state.suspended {
        background: var(--warning-color, #ffa600);
        color: #fff;
      }
      .codes {
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .code.rejected, .code.no_free_slot, .code.not_removed {
        color: var(--error-color, #db4437);
      }
      .code.pending {
        color: var(--warning-color, #ffa600);
      }
      .code.no_keypad {
        color: var(--secondary-text-color, #727272);
      }
      .actions {
        display: flex;
        gap: 4px;
        flex-wrap: wrap;
      }
      .actions button {
        padding: 4px 8px;
        min-height: 32px;
      }
      @media (max-width: 760px) {
        table.grants, table.grants tbody, table.grants tr, table.grants td {
          display: block;
          width: auto;
        }
        table.grants thead {
          display: none;
        }
        table.grants tr {
          border-bottom: 8px solid var(--primary-background-color, #fafafa);
          padding: 4px 0;
        }
        table.grants td {
          border: none;
          padding: 3px 12px;
        }
        table.grants td[data-title]:not(.label)::before {
          content: attr(data-title) ": ";
          color: var(--secondary-text-color, #727272);
        }
      }
    `;async function $t(n,t){try{return await navigator.clipboard.writeText(n),!0}catch{return t?(t.select(),document.execCommand?.("copy")??!1):!1}}var Re=["guest","cleaner","sitter","courier","other"],Oe=["disarm_for_visit","leave_alone"];function Ue(n){let t=n?.window;return{label:n?.label??"",kind:n?.kind??"guest",portals:new Set(n?.portals??[]),windowKind:t?.kind??"weekly",start:t?.kind==="one_off"?t.start:null,end:t?.kind==="one_off"?t.end:null,weekdays:new Set(t?.kind==="weekly"?t.weekdays:[]),start_time:t?.start_time??"09:00",end_time:t?.end_time??"12:00",valid_from:t?.valid_from??null,valid_until:t?.valid_until??null,max_uses:n?.max_uses??"",max_visit_minutes:n?.max_visit_minutes??"",pinMode:n?n.has_pin?"keep":"none":"generate",pin:"",remote_token:n?.remote_token??!1,carriers:new Set(n?.carriers??[]),guest_link:n?.guest_link??!0,alarm:n?.alarm??"disarm_for_visit",require_camera:n?.require_camera??!1,refuse_when_pets_home:n?.refuse_when_pets_home??!1,notify:n?.notify??!0}}var Ut=class extends N{static properties={hass:{attribute:!1},dict:{attribute:!1},site:{attribute:!1},grant:{attribute:!1},_form:{state:!0},_problem:{state:!0},_warnings:{state:!0},_busy:{state:!0},_pin:{state:!0},_copied:{state:!0}};constructor(){super(),this._form=null,this._problem="",this._warnings=null,this._busy=!1,this._pin=null,this._copied=!1}_t(t,e){return L(this.dict,t,e)}willUpdate(t){if(t.has("grant")||this._form===null){let e=H(this.hass),i=Ue(this.grant);for(let r of["start","end","valid_from","valid_until"])i[r]=Ot(e,i[r]);this._form=i}}_set(t,e){this._form={...this._form,[t]:e},this._warnings=null,this._problem&&(this._problem=this._validate())}_toggle(t,e,i){let r=new Set(this._form[t]);i?r.add(e):r.delete(e),this._set(t,r)}_validate(){let t=this._form;return t.label.trim()?t.portals.size?t.windowKind==="one_off"&&(!t.start||!t.end)?this._t("err_window"):t.windowKind==="weekly"&&!t.weekdays.size?this._t("err_weekdays"):t.windowKind==="weekly"&&(!t.start_time||!t.end_time)?this._t("err_window"):t.pinMode==="typed"&&!/^\d{4,10}$/.test(t.pin)?this._t("err_pin"):"":this._t("err_doors"):this._t("err_label")}_fields(){let t=this._form,e=H(this.hass),i={label:t.label.trim(),kind:t.kind,portals:(this.site?.portals??[]).map(r=>r.id).filter(r=>t.portals.has(r)),remote_token:t.remote_token,guest_link:t.guest_link,alarm:t.alarm,require_camera:t.require_camera,refuse_when_pets_home:t.refuse_when_pets_home,notify:t.notify,max_uses:t.max_uses===""?null:Number(t.max_uses),max_visit_minutes:t.max_visit_minutes===""?null:Number(t.max_visit_minutes)};return t.remote_token&&(i.carriers=[...t.carriers]),t.windowKind==="one_off"?(i.start=ut(e,t.start),i.end=ut(e,t.end)):(i.weekdays=ht.filter(r=>t.weekdays.has(r)),i.start_time=t.start_time,i.end_time=t.end_time,t.valid_from&&(i.valid_from=ut(e,t.valid_from)),t.valid_until&&(i.valid_until=ut(e,t.valid_until))),t.pinMode==="typed"?i.pin=t.pin:t.pinMode==="generate"?i.generate_pin=!0:t.pinMode==="none"&&this.grant?.has_pin&&(i.pin=null),i}async _save(t=!1){let e=this._validate();if(this._problem=e,e)return;let i=this._fields(),r=this.site.site_id;this._busy=!0;try{if(!t&&this._form.pinMode!=="none"){let o=(this.site?.portals??[]).filter(a=>!a.has_keypad&&i.portals.includes(a.id)).map(a=>({code:"no_keypad",portal:a.id,message:this._t("warn_no_keypad",{door:a.name})}));if(this._form.pinMode==="typed"){let a={portals:i.portals,pin:this._form.pin};this.grant&&(a.grant_id=this.grant.grant_id);let l=await S.checkGrant(this.hass,r,a);o.push(...l.warnings.filter(g=>g.code!=="no_keypad"))}if(o.length){this._warnings=o;return}}let s=this.grant?await S.updateGrant(this.hass,r,this.grant.grant_id,i):await S.createGrant(this.hass,r,i);s?.pin?this._pin=s.pin:this._close()}catch(s){this._problem=P(s)}finally{this._busy=!1}}_close(){this.dispatchEvent(new CustomEvent("closed",{bubbles:!0,composed:!0}))}async _copyPin(){this._copied=await $t(this._pin,this.renderRoot.querySelector(".pin-value"))}render(){return this._form?h`<div class="overlay">
      <div class="dialog grant-dialog" role="dialog" aria-modal="true">
        ${this._pin?this._renderPin():this._renderForm()}
      </div>
    </div>`:y}_renderPin(){return h`
      <h2>${this._t("pin_title")}</h2>
      <p>${this._t("pin_once")}</p>
      <p class="pin"><input class="pin-value" readonly .value=${this._pin} aria-label=${this._t("pin_title")} />
        <button @click=${this._copyPin}>${this._copied?this._t("copied"):this._t("copy")}</button></p>
      <div class="buttons"><button class="primary" @click=${this._close}>${this._t("close")}</button></div>`}_check(t,e){return h`<label class="check"><input type="checkbox" name=${t} .checked=${this._form[t]}
      @change=${i=>this._set(t,i.target.checked)} /> ${e}</label>`}_renderForm(){let t=this._form,e=this.dict,i=this.site?.portals??[],r=this.site?.carriers??[];return h`
      <h2>${this.grant?this._t("dialog_edit",{label:this.grant.label}):this._t("dialog_new")}</h2>
      <div class="form">
        <label>${this._t("f_label")}<input name="label" .value=${t.label} @input=${s=>this._set("label",s.target.value)} /></label>
        <label>${this._t("f_kind")}<select name="kind" @change=${s=>this._set("kind",s.target.value)}>
          ${Re.map(s=>h`<option value=${s} ?selected=${s===t.kind}>${U(e,"kind",s)}</option>`)}
        </select></label>
        <fieldset><legend>${this._t("f_doors")}</legend>
          ${i.map(s=>h`<label class="check"><input type="checkbox" name="portal" value=${s.id}
            .checked=${t.portals.has(s.id)} @change=${o=>this._toggle("portals",s.id,o.target.checked)} />
            ${s.name}${s.has_keypad?"":h` <span class="muted">(${U(e,"code","no_keypad")})</span>`}</label>`)}
        </fieldset>
        <fieldset><legend>${this._t("f_window")}</legend>
          <div class="row">
            <label class="check"><input type="radio" name="window" value="weekly" .checked=${t.windowKind==="weekly"}
              @change=${()=>this._set("windowKind","weekly")} /> ${this._t("f_weekly")}</label>
            <label class="check"><input type="radio" name="window" value="one_off" .checked=${t.windowKind==="one_off"}
              @change=${()=>this._set("windowKind","one_off")} /> ${this._t("f_one_off")}</label>
          </div>
          ${t.windowKind==="one_off"?h`<div class="row">
                <label>${this._t("f_start")}<input type="datetime-local" name="start" .value=${t.start} @input=${s=>this._set("start",s.target.value)} /></label>
                <label>${this._t("f_end")}<input type="datetime-local" name="end" .value=${t.end} @input=${s=>this._set("end",s.target.value)} /></label>
              </div>`:h`<div class="row weekdays" role="group" aria-label=${this._t("f_weekdays")}>
                ${ht.map(s=>h`<label class="check day"><input type="checkbox" name="weekday" value=${s}
                  .checked=${t.weekdays.has(s)} @change=${o=>this._toggle("weekdays",s,o.target.checked)} /> ${this._t(`wd_${s}`)}</label>`)}
              </div>
              <div class="row">
                <label>${this._t("f_start_time")}<input type="time" name="start_time" .value=${t.start_time} @input=${s=>this._set("start_time",s.target.value)} /></label>
                <label>${this._t("f_end_time")}<input type="time" name="end_time" .value=${t.end_time} @input=${s=>this._set("end_time",s.target.value)} /></label>
              </div>
              <div class="row">
                <label>${this._t("f_valid_from")}<input type="datetime-local" name="valid_from" .value=${t.valid_from} @input=${s=>this._set("valid_from",s.target.value)} /></label>
                <label>${this._t("f_valid_until")}<input type="datetime-local" name="valid_until" .value=${t.valid_until} @input=${s=>this._set("valid_until",s.target.value)} /></label>
              </div>`}
        </fieldset>
        <fieldset><legend>${this._t("f_pin")}</legend>
          <div class="row">
            ${(this.grant?.has_pin?["keep","generate","typed","none"]:["generate","typed","none"]).map(s=>h`<label class="check"><input type="radio" name="pin_mode" value=${s} .checked=${t.pinMode===s}
                @change=${()=>this._set("pinMode",s)} /> ${this._t(`f_pin_${s}`)}</label>`)}
          </div>
          ${t.pinMode==="typed"?h`<label>${this._t("f_pin_value")}<input name="pin" inputmode="numeric" autocomplete="off" .value=${t.pin}
                @input=${s=>this._set("pin",s.target.value)} /></label>`:y}
        </fieldset>
        <fieldset><legend>${this._t("f_alarm")}</legend>
          <select name="alarm" aria-label=${this._t("f_alarm")} @change=${s=>this._set("alarm",s.target.value)}>
            ${Oe.map(s=>h`<option value=${s} ?selected=${s===t.alarm}>${this._t(`alarm_${s}`)}</option>`)}
          </select>
          ${this._check("require_camera",this._t("f_require_camera"))}
          ${this._check("refuse_when_pets_home",this._t("f_refuse_pets"))}
          ${this._check("notify",this._t("f_notify"))}
          ${this._check("guest_link",this._t("f_guest_link"))}
          ${this._check("remote_token",this._t("f_remote_token"))}
          ${t.remote_token&&r.length?h`<div class="row" role="group" aria-label=${this._t("f_carriers")}>${r.map(s=>h`<label class="check"><input type="checkbox" name="carrier" value=${s.id} .checked=${t.carriers.has(s.id)}
                  @change=${o=>this._toggle("carriers",s.id,o.target.checked)} /> ${s.name}</label>`)}</div>`:y}
          <div class="row">
            <label>${this._t("f_max_uses")}<input type="number" min="1" name="max_uses" .value=${String(t.max_uses)} @input=${s=>this._set("max_uses",s.target.value)} /></label>
            <label>${this._t("f_max_visit")}<input type="number" min="1" max="1440" name="max_visit_minutes" .value=${String(t.max_visit_minutes)} @input=${s=>this._set("max_visit_minutes",s.target.value)} /></label>
          </div>
        </fieldset>
      </div>
      ${this._problem?h`<p class="error" role="alert">${this._problem}</p>`:y}
      ${this._warnings?h`<div class="warnings" role="alert"><strong>${this._t("warnings_title")}</strong>
            <ul>${this._warnings.map(s=>h`<li class="warning">${s.message}</li>`)}</ul></div>`:y}
      <div class="buttons">
        <button @click=${this._close}>${this._t("cancel")}</button>
        ${this._warnings?h`<button class="primary save" ?disabled=${this._busy} @click=${()=>this._save(!0)}>${this._t("continue_anyway")}</button>`:h`<button class="primary save" ?disabled=${this._busy} @click=${()=>this._save(!1)}>${this._t("save")}</button>`}
      </div>`}static styles=[R,M`
      .form {
        display: flex;
        flex-direction: column;
        gap: 10px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 4px;
      }
      label.check {
        flex-direction: row;
        align-items: center;
        gap: 6px;
      }
      fieldset {
        border: 1px solid var(--divider-color, #e0e0e0);
        border-radius: 8px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      legend {
        color: var(--secondary-text-color, #727272);
      }
      .row {
        display: flex;
        gap: 10px;
        flex-wrap: wrap;
      }
      .row > label:not(.check) {
        flex: 1 1 180px;
      }
      .day {
        min-width: 56px;
      }
      .pin {
        display: flex;
        gap: 8px;
      }
      .pin-value {
        font-size: 28px;
        letter-spacing: 6px;
        width: 10em;
        font-family: monospace;
      }
    `]};customElements.get("concierge-grant-dialog")||customElements.define("concierge-grant-dialog",Ut);var rt=function(n,t){let r=n,s=_t[t],o=null,a=0,l=null,g=[],b={},_=function(d,f){a=r*4+17,o=(function(c){let p=new Array(c);for(let u=0;u<c;u+=1){p[u]=new Array(c);for(let k=0;k<c;k+=1)p[u][k]=null}return p})(a),m(0,0),m(a-7,0),m(0,a-7),T(),D(),z(d,f),r>=7&&B(d),l==null&&(l=ye(r,s,g)),K(l,f)},m=function(d,f){for(let c=-1;c<=7;c+=1)if(!(d+c<=-1||a<=d+c))for(let p=-1;p<=7;p+=1)f+p<=-1||a<=f+p||(0<=c&&c<=6&&(p==0||p==6)||0<=p&&p<=6&&(c==0||c==6)||2<=c&&c<=4&&2<=p&&p<=4?o[d+c][f+p]=!0:o[d+c][f+p]=!1)},v=function(){let d=0,f=0;for(let c=0;c<8;c+=1){_(!0,c);let p=q.getLostPoint(b);(c==0||d>p)&&(d=p,f=c)}return f},D=function(){for(let d=8;d<a-8;d+=1)o[d][6]==null&&(o[d][6]=d%2==0);for(let d=8;d<a-8;d+=1)o[6][d]==null&&(o[6][d]=d%2==0)},T=function(){let d=q.getPatternPosition(r);for(let f=0;f<d.length;f+=1)for(let c=0;c<d.length;c+=1){let p=d[f],u=d[c];if(o[p][u]==null)for(let k=-2;k<=2;k+=1)for(let $=-2;$<=2;$+=1)k==-2||k==2||$==-2||$==2||k==0&&$==0?o[p+k][u+$]=!0:o[p+k][u+$]=!1}},B=function(d){let f=q.getBCHTypeNumber(r);for(let c=0;c<18;c+=1){let p=!d&&(f>>c&1)==1;o[Math.floor(c/3)][c%3+a-8-3]=p}for(let c=0;c<18;c+=1){let p=!d&&(f>>c&1)==1;o[c%3+a-8-3][Math.floor(c/3)]=p}},z=function(d,f){let c=s<<3|f,p=q.getBCHTypeInfo(c);for(let u=0;u<15;u+=1){let k=!d&&(p>>u&1)==1;u<6?o[u][8]=k:u<8?o[u+1][8]=k:o[a-15+u][8]=k}for(let u=0;u<15;u+=1){let k=!d&&(p>>u&1)==1;u<8?o[8][a-u-1]=k:u<9?o[8][15-u-1+1]=k:o[8][15-u-1]=k}o[a-8][8]=!d},K=function(d,f){let c=-1,p=a-1,u=7,k=0,$=q.getMaskFunction(f);for(let x=a-1;x>0;x-=2)for(x==6&&(x-=1);;){for(let A=0;A<2;A+=1)if(o[p][x-A]==null){let C=!1;k<d.length&&(C=(d[k]>>>u&1)==1),$(p,x-A)&&(C=!C),o[p][x-A]=C,u-=1,u==-1&&(k+=1,u=7)}if(p+=c,p<0||a<=p){p-=c,c=-c;break}}},wt=function(d,f){let c=0,p=0,u=0,k=new Array(f.length),$=new Array(f.length);for(let w=0;w<f.length;w+=1){let E=f[w].dataCount,O=f[w].totalCount-E;p=Math.max(p,E),u=Math.max(u,O),k[w]=new Array(E);for(let j=0;j<k[w].length;j+=1)k[w][j]=255&d.getBuffer()[j+c];c+=E;let vt=q.getErrorCorrectPolynomial(O),Zt=pt(k[w],vt.getLength()-1).mod(vt);$[w]=new Array(vt.getLength()-1);for(let j=0;j<$[w].length;j+=1){let qt=j+Zt.getLength()-$[w].length;$[w][j]=qt>=0?Zt.getAt(qt):0}}let x=0;for(let w=0;w<f.length;w+=1)x+=f[w].totalCount;let A=new Array(x),C=0;for(let w=0;w<p;w+=1)for(let E=0;E<f.length;E+=1)w<k[E].length&&(A[C]=k[E][w],C+=1);for(let w=0;w<u;w+=1)for(let E=0;E<f.length;E+=1)w<$[E].length&&(A[C]=$[E][w],C+=1);return A},ye=function(d,f,c){let p=ge.getRSBlocks(d,f),u=me();for(let $=0;$<c.length;$+=1){let x=c[$];u.put(x.getMode(),4),u.put(x.getLength(),q.getLengthInBits(x.getMode(),d)),x.write(u)}let k=0;for(let $=0;$<p.length;$+=1)k+=p[$].dataCount;if(u.getLengthInBits()>k*8)throw"code length overflow. ("+u.getLengthInBits()+">"+k*8+")";for(u.getLengthInBits()+4<=k*8&&u.put(0,4);u.getLengthInBits()%8!=0;)u.putBit(!1);for(;!(u.getLengthInBits()>=k*8||(u.put(236,8),u.getLengthInBits()>=k*8));)u.put(17,8);return wt(u,p)};b.addData=function(d,f){f=f||"Byte";let c=null;switch(f){case"Numeric":c=Ke(d);break;case"Alphanumeric":c=ze(d);break;case"Byte":c=He(d);break;case"Kanji":c=We(d);break;default:throw"mode:"+f}g.push(c),l=null},b.isDark=function(d,f){if(d<0||a<=d||f<0||a<=f)throw d+","+f;return o[d][f]},b.getModuleCount=function(){return a},b.make=function(){if(r<1){let d=1;for(;d<40;d++){let f=ge.getRSBlocks(d,s),c=me();for(let u=0;u<g.length;u++){let k=g[u];c.put(k.getMode(),4),c.put(k.getLength(),q.getLengthInBits(k.getMode(),d)),k.write(c)}let p=0;for(let u=0;u<f.length;u++)p+=f[u].dataCount;if(c.getLengthInBits()<=p*8)break}r=d}_(!1,v())},b.createTableTag=function(d,f){d=d||2,f=typeof f>"u"?d*4:f;let c="";c+='<table style="',c+=" border-width: 0px; border-style: none;",c+=" border-collapse: collapse;",c+=" padding: 0px; margin: "+f+"px;",c+='">',c+="<tbody>";for(let p=0;p<b.getModuleCount();p+=1){c+="<tr>";for(let u=0;u<b.getModuleCount();u+=1)c+='<td style="',c+=" border-width: 0px; border-style: none;",c+=" border-collapse: collapse;",c+=" padding: 0px; margin: 0px;",c+=" width: "+d+"px;",c+=" height: "+d+"px;",c+=" background-color: ",c+=b.isDark(p,u)?"#000000":"#ffffff",c+=";",c+='"/>';c+="</tr>"}return c+="</tbody>",c+="</table>",c},b.createSvgTag=function(d,f,c,p){let u={};typeof arguments[0]=="object"&&(u=arguments[0],d=u.cellSize,f=u.margin,c=u.alt,p=u.title),d=d||2,f=typeof f>"u"?d*4:f,c=typeof c=="string"?{text:c}:c||{},c.text=c.text||null,c.id=c.text?c.id||"qrcode-description":null,p=typeof p=="string"?{text:p}:p||{},p.text=p.text||null,p.id=p.text?p.id||"qrcode-title":null;let k=b.getModuleCount()*d+f*2,$,x,A,C,w="",E;for(E="l"+d+",0 0,"+d+" -"+d+",0 0,-"+d+"z ",w+='<svg version="1.1" xmlns="http://www.w3.org/2000/svg"',w+=u.scalable?"":' width="'+k+'px" height="'+k+'px"',w+=' viewBox="0 0 '+k+" "+k+'" ',w+=' preserveAspectRatio="xMinYMin meet"',w+=p.text||c.text?' role="img" aria-labelledby="'+tt([p.id,c.id].join(" ").trim())+'"':"",w+=">",w+=p.text?'<title id="'+tt(p.id)+'">'+tt(p.text)+"</title>":"",w+=c.text?'<description id="'+tt(c.id)+'">'+tt(c.text)+"</description>":"",w+='<rect width="100%" height="100%" fill="white" cx="0" cy="0"/>',w+='<path d="',A=0;A<b.getModuleCount();A+=1)for(C=A*d+f,$=0;$<b.getModuleCount();$+=1)b.isDark(A,$)&&(x=$*d+f,w+="M"+x+","+C+E);return w+='" stroke="transparent" fill="black"/>',w+="</svg>",w},b.createDataURL=function(d,f){d=d||2,f=typeof f>"u"?d*4:f;let c=b.getModuleCount()*d+f*2,p=f,u=c-f;return Ze(c,c,function(k,$){if(p<=k&&k<u&&p<=$&&$<u){let x=Math.floor((k-p)/d),A=Math.floor(($-p)/d);return b.isDark(A,x)?0:1}else return 1})},b.createImgTag=function(d,f,c){d=d||2,f=typeof f>"u"?d*4:f;let p=b.getModuleCount()*d+f*2,u="";return u+="<img",u+=' src="',u+=b.createDataURL(d,f),u+='"',u+=' width="',u+=p,u+='"',u+=' height="',u+=p,u+='"',c&&(u+=' alt="',u+=tt(c),u+='"'),u+="/>",u};let tt=function(d){let f="";for(let c=0;c<d.length;c+=1){let p=d.charAt(c);switch(p){case"<":f+="&lt;";break;case">":f+="&gt;";break;case"&":f+="&amp;";break;case'"':f+="&quot;";break;default:f+=p;break}}return f},$e=function(d){d=typeof d>"u"?2:d;let c=b.getModuleCount()*1+d*2,p=d,u=c-d,k,$,x,A,C,w={"██":"█","█ ":"▀"," █":"▄","  ":" "},E={"██":"▀","█ ":"▀"," █":" ","  ":" "},O="";for(k=0;k<c;k+=2){for(x=Math.floor((k-p)/1),A=Math.floor((k+1-p)/1),$=0;$<c;$+=1)C="█",p<=$&&$<u&&p<=k&&k<u&&b.isDark(x,Math.floor(($-p)/1))&&(C=" "),p<=$&&$<u&&p<=k+1&&k+1<u&&b.isDark(A,Math.floor(($-p)/1))?C+=" ":C+="█",O+=d<1&&k+1>=u?E[C]:w[C];O+=`
`}return c%2&&d>0?O.substring(0,O.length-c-1)+Array(c+1).join("▀"):O.substring(0,O.length-1)};return b.createASCII=function(d,f){if(d=d||1,d<2)return $e(f);d-=1,f=typeof f>"u"?d*2:f;let c=b.getModuleCount()*d+f*2,p=f,u=c-f,k,$,x,A,C=Array(d+1).join("██"),w=Array(d+1).join("  "),E="",O="";for(k=0;k<c;k+=1){for(x=Math.floor((k-p)/d),O="",$=0;$<c;$+=1)A=1,p<=$&&$<u&&p<=k&&k<u&&b.isDark(x,Math.floor(($-p)/d))&&(A=0),O+=A?C:w;for(x=0;x<d;x+=1)E+=O+`
`}return E.substring(0,E.length-1)},b.renderTo2dContext=function(d,f){f=f||2;let c=b.getModuleCount();for(let p=0;p<c;p++)for(let u=0;u<c;u++)d.fillStyle=b.isDark(p,u)?"black":"white",d.fillRect(u*f,p*f,f,f)},b};rt.stringToBytes=function(n){let t=[];for(let e=0;e<n.length;e+=1){let i=n.charCodeAt(e);t.push(i&255)}return t};rt.createStringToBytes=function(n,t){let e=(function(){let r=Ge(n),s=function(){let l=r.read();if(l==-1)throw"eof";return l},o=0,a={};for(;;){let l=r.read();if(l==-1)break;let g=s(),b=s(),_=s(),m=String.fromCharCode(l<<8|g),v=b<<8|_;a[m]=v,o+=1}if(o!=t)throw o+" != "+t;return a})(),i=63;return function(r){let s=[];for(let o=0;o<r.length;o+=1){let a=r.charCodeAt(o);if(a<128)s.push(a);else{let l=e[r.charAt(o)];typeof l=="number"?(l&255)==l?s.push(l):(s.push(l>>>8),s.push(l&255)):s.push(i)}}return s}};var I={MODE_NUMBER:1,MODE_ALPHA_NUM:2,MODE_8BIT_BYTE:4,MODE_KANJI:8},_t={L:1,M:0,Q:3,H:2},Z={PATTERN000:0,PATTERN001:1,PATTERN010:2,PATTERN011:3,PATTERN100:4,PATTERN101:5,PATTERN110:6,PATTERN111:7},q=(function(){let n=[[],[6,18],[6,22],[6,26],[6,30],[6,34],[6,22,38],[6,24,42],[6,26,46],[6,28,50],[6,30,54],[6,32,58],[6,34,62],[6,26,46,66],[6,26,48,70],[6,26,50,74],[6,30,54,78],[6,30,56,82],[6,30,58,86],[6,34,62,90],[6,28,50,72,94],[6,26,50,74,98],[6,30,54,78,102],[6,28,54,80,106],[6,32,58,84,110],[6,30,58,86,114],[6,34,62,90,118],[6,26,50,74,98,122],[6,30,54,78,102,126],[6,26,52,78,104,130],[6,30,56,82,108,134],[6,34,60,86,112,138],[6,30,58,86,114,142],[6,34,62,90,118,146],[6,30,54,78,102,126,150],[6,24,50,76,102,128,154],[6,28,54,80,106,132,158],[6,32,58,84,110,136,162],[6,26,54,82,110,138,166],[6,30,58,86,114,142,170]],t=1335,e=7973,i=21522,r={},s=function(o){let a=0;for(;o!=0;)a+=1,o>>>=1;return a};return r.getBCHTypeInfo=function(o){let a=o<<10;for(;s(a)-s(t)>=0;)a^=t<<s(a)-s(t);return(o<<10|a)^i},r.getBCHTypeNumber=function(o){let a=o<<12;for(;s(a)-s(e)>=0;)a^=e<<s(a)-s(e);return o<<12|a},r.getPatternPosition=function(o){return n[o-1]},r.getMaskFunction=function(o){switch(o){case Z.PATTERN000:return function(a,l){return(a+l)%2==0};case Z.PATTERN001:return function(a,l){return a%2==0};case Z.PATTERN010:return function(a,l){return l%3==0};case Z.PATTERN011:return function(a,l){return(a+l)%3==0};case Z.PATTERN100:return function(a,l){return(Math.floor(a/2)+Math.floor(l/3))%2==0};case Z.PATTERN101:return function(a,l){return a*l%2+a*l%3==0};case Z.PATTERN110:return function(a,l){return(a*l%2+a*l%3)%2==0};case Z.PATTERN111:return function(a,l){return(a*l%3+(a+l)%2)%2==0};default:throw"bad maskPattern:"+o}},r.getErrorCorrectPolynomial=function(o){let a=pt([1],0);for(let l=0;l<o;l+=1)a=a.multiply(pt([1,V.gexp(l)],0));return a},r.getLengthInBits=function(o,a){if(1<=a&&a<10)switch(o){case I.MODE_NUMBER:return 10;case I.MODE_ALPHA_NUM:return 9;case I.MODE_8BIT_BYTE:return 8;case I.MODE_KANJI:return 8;default:throw"mode:"+o}else if(a<27)switch(o){case I.MODE_NUMBER:return 12;case I.MODE_ALPHA_NUM:return 11;case I.MODE_8BIT_BYTE:return 16;case I.MODE_KANJI:return 10;default:throw"mode:"+o}else if(a<41)switch(o){case I.MODE_NUMBER:return 14;case I.MODE_ALPHA_NUM:return 13;case I.MODE_8BIT_BYTE:return 16;case I.MODE_KANJI:return 12;default:throw"mode:"+o}else throw"type:"+a},r.getLostPoint=function(o){let a=o.getModuleCount(),l=0;for(let _=0;_<a;_+=1)for(let m=0;m<a;m+=1){let v=0,D=o.isDark(_,m);for(let T=-1;T<=1;T+=1)if(!(_+T<0||a<=_+T))for(let B=-1;B<=1;B+=1)m+B<0||a<=m+B||T==0&&B==0||D==o.isDark(_+T,m+B)&&(v+=1);v>5&&(l+=3+v-5)}for(let _=0;_<a-1;_+=1)for(let m=0;m<a-1;m+=1){let v=0;o.isDark(_,m)&&(v+=1),o.isDark(_+1,m)&&(v+=1),o.isDark(_,m+1)&&(v+=1),o.isDark(_+1,m+1)&&(v+=1),(v==0||v==4)&&(l+=3)}for(let _=0;_<a;_+=1)for(let m=0;m<a-6;m+=1)o.isDark(_,m)&&!o.isDark(_,m+1)&&o.isDark(_,m+2)&&o.isDark(_,m+3)&&o.isDark(_,m+4)&&!o.isDark(_,m+5)&&o.isDark(_,m+6)&&(l+=40);for(let _=0;_<a;_+=1)for(let m=0;m<a-6;m+=1)o.isDark(m,_)&&!o.isDark(m+1,_)&&o.isDark(m+2,_)&&o.isDark(m+3,_)&&o.isDark(m+4,_)&&!o.isDark(m+5,_)&&o.isDark(m+6,_)&&(l+=40);let g=0;for(let _=0;_<a;_+=1)for(let m=0;m<a;m+=1)o.isDark(m,_)&&(g+=1);let b=Math.abs(100*g/a/a-50)/5;return l+=b*10,l},r})(),V=(function(){let n=new Array(256),t=new Array(256);for(let i=0;i<8;i+=1)n[i]=1<<i;for(let i=8;i<256;i+=1)n[i]=n[i-4]^n[i-5]^n[i-6]^n[i-8];for(let i=0;i<255;i+=1)t[n[i]]=i;let e={};return e.glog=function(i){if(i<1)throw"glog("+i+")";return t[i]},e.gexp=function(i){for(;i<0;)i+=255;for(;i>=256;)i-=255;return n[i]},e})(),pt=function(n,t){if(typeof n.length>"u")throw n.length+"/"+t;let e=(function(){let r=0;for(;r<n.length&&n[r]==0;)r+=1;let s=new Array(n.length-r+t);for(let o=0;o<n.length-r;o+=1)s[o]=n[o+r];return s})(),i={};return i.getAt=function(r){return e[r]},i.getLength=function(){return e.length},i.multiply=function(r){let s=new Array(i.getLength()+r.getLength()-1);for(let o=0;o<i.getLength();o+=1)for(let a=0;a<r.getLength();a+=1)s[o+a]^=V.gexp(V.glog(i.getAt(o))+V.glog(r.getAt(a)));return pt(s,0)},i.mod=function(r){if(i.getLength()-r.getLength()<0)return i;let s=V.glog(i.getAt(0))-V.glog(r.getAt(0)),o=new Array(i.getLength());for(let a=0;a<i.getLength();a+=1)o[a]=i.getAt(a);for(let a=0;a<r.getLength();a+=1)o[a]^=V.gexp(V.glog(r.getAt(a))+s);return pt(o,0).mod(r)},i},ge=(function(){let n=[[1,26,19],[1,26,16],[1,26,13],[1,26,9],[1,44,34],[1,44,28],[1,44,22],[1,44,16],[1,70,55],[1,70,44],[2,35,17],[2,35,13],[1,100,80],[2,50,32],[2,50,24],[4,25,9],[1,134,108],[2,67,43],[2,33,15,2,34,16],[2,33,11,2,34,12],[2,86,68],[4,43,27],[4,43,19],[4,43,15],[2,98,78],[4,49,31],[2,32,14,4,33,15],[4,39,13,1,40,14],[2,121,97],[2,60,38,2,61,39],[4,40,18,2,41,19],[4,40,14,2,41,15],[2,146,116],[3,58,36,2,59,37],[4,36,16,4,37,17],[4,36,12,4,37,13],[2,86,68,2,87,69],[4,69,43,1,70,44],[6,43,19,2,44,20],[6,43,15,2,44,16],[4,101,81],[1,80,50,4,81,51],[4,50,22,4,51,23],[3,36,12,8,37,13],[2,116,92,2,117,93],[6,58,36,2,59,37],[4,46,20,6,47,21],[7,42,14,4,43,15],[4,133,107],[8,59,37,1,60,38],[8,44,20,4,45,21],[12,33,11,4,34,12],[3,145,115,1,146,116],[4,64,40,5,65,41],[11,36,16,5,37,17],[11,36,12,5,37,13],[5,109,87,1,110,88],[5,65,41,5,66,42],[5,54,24,7,55,25],[11,36,12,7,37,13],[5,122,98,1,123,99],[7,73,45,3,74,46],[15,43,19,2,44,20],[3,45,15,13,46,16],[1,135,107,5,136,108],[10,74,46,1,75,47],[1,50,22,15,51,23],[2,42,14,17,43,15],[5,150,120,1,151,121],[9,69,43,4,70,44],[17,50,22,1,51,23],[2,42,14,19,43,15],[3,141,113,4,142,114],[3,70,44,11,71,45],[17,47,21,4,48,22],[9,39,13,16,40,14],[3,135,107,5,136,108],[3,67,41,13,68,42],[15,54,24,5,55,25],[15,43,15,10,44,16],[4,144,116,4,145,117],[17,68,42],[17,50,22,6,51,23],[19,46,16,6,47,17],[2,139,111,7,140,112],[17,74,46],[7,54,24,16,55,25],[34,37,13],[4,151,121,5,152,122],[4,75,47,14,76,48],[11,54,24,14,55,25],[16,45,15,14,46,16],[6,147,117,4,148,118],[6,73,45,14,74,46],[11,54,24,16,55,25],[30,46,16,2,47,17],[8,132,106,4,133,107],[8,75,47,13,76,48],[7,54,24,22,55,25],[22,45,15,13,46,16],[10,142,114,2,143,115],[19,74,46,4,75,47],[28,50,22,6,51,23],[33,46,16,4,47,17],[8,152,122,4,153,123],[22,73,45,3,74,46],[8,53,23,26,54,24],[12,45,15,28,46,16],[3,147,117,10,148,118],[3,73,45,23,74,46],[4,54,24,31,55,25],[11,45,15,31,46,16],[7,146,116,7,147,117],[21,73,45,7,74,46],[1,53,23,37,54,24],[19,45,15,26,46,16],[5,145,115,10,146,116],[19,75,47,10,76,48],[15,54,24,25,55,25],[23,45,15,25,46,16],[13,145,115,3,146,116],[2,74,46,29,75,47],[42,54,24,1,55,25],[23,45,15,28,46,16],[17,145,115],[10,74,46,23,75,47],[10,54,24,35,55,25],[19,45,15,35,46,16],[17,145,115,1,146,116],[14,74,46,21,75,47],[29,54,24,19,55,25],[11,45,15,46,46,16],[13,145,115,6,146,116],[14,74,46,23,75,47],[44,54,24,7,55,25],[59,46,16,1,47,17],[12,151,121,7,152,122],[12,75,47,26,76,48],[39,54,24,14,55,25],[22,45,15,41,46,16],[6,151,121,14,152,122],[6,75,47,34,76,48],[46,54,24,10,55,25],[2,45,15,64,46,16],[17,152,122,4,153,123],[29,74,46,14,75,47],[49,54,24,10,55,25],[24,45,15,46,46,16],[4,152,122,18,153,123],[13,74,46,32,75,47],[48,54,24,14,55,25],[42,45,15,32,46,16],[20,147,117,4,148,118],[40,75,47,7,76,48],[43,54,24,22,55,25],[10,45,15,67,46,16],[19,148,118,6,149,119],[18,75,47,31,76,48],[34,54,24,34,55,25],[20,45,15,61,46,16]],t=function(r,s){let o={};return o.totalCount=r,o.dataCount=s,o},e={},i=function(r,s){switch(s){case _t.L:return n[(r-1)*4+0];case _t.M:return n[(r-1)*4+1];case _t.Q:return n[(r-1)*4+2];case _t.H:return n[(r-1)*4+3];default:return}};return e.getRSBlocks=function(r,s){let o=i(r,s);if(typeof o>"u")throw"bad rs block @ typeNumber:"+r+"/errorCorrectionLevel:"+s;let a=o.length/3,l=[];for(let g=0;g<a;g+=1){let b=o[g*3+0],_=o[g*3+1],m=o[g*3+2];for(let v=0;v<b;v+=1)l.push(t(_,m))}return l},e})(),me=function(){let n=[],t=0,e={};return e.getBuffer=function(){return n},e.getAt=function(i){let r=Math.floor(i/8);return(n[r]>>>7-i%8&1)==1},e.put=function(i,r){for(let s=0;s<r;s+=1)e.putBit((i>>>r-s-1&1)==1)},e.getLengthInBits=function(){return t},e.putBit=function(i){let r=Math.floor(t/8);n.length<=r&&n.push(0),i&&(n[r]|=128>>>t%8),t+=1},e},Ke=function(n){let t=I.MODE_NUMBER,e=n,i={};i.getMode=function(){return t},i.getLength=function(o){return e.length},i.write=function(o){let a=e,l=0;for(;l+2<a.length;)o.put(r(a.substring(l,l+3)),10),l+=3;l<a.length&&(a.length-l==1?o.put(r(a.substring(l,l+1)),4):a.length-l==2&&o.put(r(a.substring(l,l+2)),7))};let r=function(o){let a=0;for(let l=0;l<o.length;l+=1)a=a*10+s(o.charAt(l));return a},s=function(o){if("0"<=o&&o<="9")return o.charCodeAt(0)-48;throw"illegal char :"+o};return i},ze=function(n){let t=I.MODE_ALPHA_NUM,e=n,i={};i.getMode=function(){return t},i.getLength=function(s){return e.length},i.write=function(s){let o=e,a=0;for(;a+1<o.length;)s.put(r(o.charAt(a))*45+r(o.charAt(a+1)),11),a+=2;a<o.length&&s.put(r(o.charAt(a)),6)};let r=function(s){if("0"<=s&&s<="9")return s.charCodeAt(0)-48;if("A"<=s&&s<="Z")return s.charCodeAt(0)-65+10;switch(s){case" ":return 36;case"$":return 37;case"%":return 38;case"*":return 39;case"+":return 40;case"-":return 41;case".":return 42;case"/":return 43;case":":return 44;default:throw"illegal char :"+s}};return i},He=function(n){let t=I.MODE_8BIT_BYTE,e=n,i=rt.stringToBytes(n),r={};return r.getMode=function(){return t},r.getLength=function(s){return i.length},r.write=function(s){for(let o=0;o<i.length;o+=1)s.put(i[o],8)},r},We=function(n){let t=I.MODE_KANJI,e=n,i=rt.stringToBytes;(function(o,a){let l=i(o);if(l.length!=2||(l[0]<<8|l[1])!=a)throw"sjis not supported."})("友",38726);let r=i(n),s={};return s.getMode=function(){return t},s.getLength=function(o){return~~(r.length/2)},s.write=function(o){let a=r,l=0;for(;l+1<a.length;){let g=(255&a[l])<<8|255&a[l+1];if(33088<=g&&g<=40956)g-=33088;else if(57408<=g&&g<=60351)g-=49472;else throw"illegal char at "+(l+1)+"/"+g;g=(g>>>8&255)*192+(g&255),o.put(g,13),l+=2}if(l<a.length)throw"illegal char at "+(l+1)},s},be=function(){let n=[],t={};return t.writeByte=function(e){n.push(e&255)},t.writeShort=function(e){t.writeByte(e),t.writeByte(e>>>8)},t.writeBytes=function(e,i,r){i=i||0,r=r||e.length;for(let s=0;s<r;s+=1)t.writeByte(e[s+i])},t.writeString=function(e){for(let i=0;i<e.length;i+=1)t.writeByte(e.charCodeAt(i))},t.toByteArray=function(){return n},t.toString=function(){let e="";e+="[";for(let i=0;i<n.length;i+=1)i>0&&(e+=","),e+=n[i];return e+="]",e},t},je=function(){let n=0,t=0,e=0,i="",r={},s=function(a){i+=String.fromCharCode(o(a&63))},o=function(a){if(a<0)throw"n:"+a;if(a<26)return 65+a;if(a<52)return 97+(a-26);if(a<62)return 48+(a-52);if(a==62)return 43;if(a==63)return 47;throw"n:"+a};return r.writeByte=function(a){for(n=n<<8|a&255,t+=8,e+=1;t>=6;)s(n>>>t-6),t-=6},r.flush=function(){if(t>0&&(s(n<<6-t),n=0,t=0),e%3!=0){let a=3-e%3;for(let l=0;l<a;l+=1)i+="="}},r.toString=function(){return i},r},Ge=function(n){let t=n,e=0,i=0,r=0,s={};s.read=function(){for(;r<8;){if(e>=t.length){if(r==0)return-1;throw"unexpected end of file./"+r}let l=t.charAt(e);if(e+=1,l=="=")return r=0,-1;if(l.match(/^\s$/))continue;i=i<<6|o(l.charCodeAt(0)),r+=6}let a=i>>>r-8&255;return r-=8,a};let o=function(a){if(65<=a&&a<=90)return a-65;if(97<=a&&a<=122)return a-97+26;if(48<=a&&a<=57)return a-48+52;if(a==43)return 62;if(a==47)return 63;throw"c:"+a};return s},Fe=function(n,t){let e=n,i=t,r=new Array(n*t),s={};s.setPixel=function(g,b,_){r[b*e+g]=_},s.write=function(g){g.writeString("GIF87a"),g.writeShort(e),g.writeShort(i),g.writeByte(128),g.writeByte(0),g.writeByte(0),g.writeByte(0),g.writeByte(0),g.writeByte(0),g.writeByte(255),g.writeByte(255),g.writeByte(255),g.writeString(","),g.writeShort(0),g.writeShort(0),g.writeShort(e),g.writeShort(i),g.writeByte(0);let b=2,_=a(b);g.writeByte(b);let m=0;for(;_.length-m>255;)g.writeByte(255),g.writeBytes(_,m,255),m+=255;g.writeByte(_.length-m),g.writeBytes(_,m,_.length-m),g.writeByte(0),g.writeString(";")};let o=function(g){let b=g,_=0,m=0,v={};return v.write=function(D,T){if(D>>>T)throw"length over";for(;_+T>=8;)b.writeByte(255&(D<<_|m)),T-=8-_,D>>>=8-_,m=0,_=0;m=D<<_|m,_=_+T},v.flush=function(){_>0&&b.writeByte(m)},v},a=function(g){let b=1<<g,_=(1<<g)+1,m=g+1,v=l();for(let K=0;K<b;K+=1)v.add(String.fromCharCode(K));v.add(String.fromCharCode(b)),v.add(String.fromCharCode(_));let D=be(),T=o(D);T.write(b,m);let B=0,z=String.fromCharCode(r[B]);for(B+=1;B<r.length;){let K=String.fromCharCode(r[B]);B+=1,v.contains(z+K)?z=z+K:(T.write(v.indexOf(z),m),v.size()<4095&&(v.size()==1<<m&&(m+=1),v.add(z+K)),z=K)}return T.write(v.indexOf(z),m),T.write(_,m),T.flush(),D.toByteArray()},l=function(){let g={},b=0,_={};return _.add=function(m){if(_.contains(m))throw"dup key:"+m;g[m]=b,b+=1},_.size=function(){return b},_.indexOf=function(m){return g[m]},_.contains=function(m){return typeof g[m]<"u"},_};return s},Ze=function(n,t,e){let i=Fe(n,t);for(let a=0;a<t;a+=1)for(let l=0;l<n;l+=1)i.setPixel(l,a,e(l,a));let r=be();i.write(r);let s=je(),o=r.toByteArray();for(let a=0;a<o.length;a+=1)s.writeByte(o[a]);return s.flush(),"data:image/gif;base64,"+s},ke=rt,Ni=rt.stringToBytes;function qe(n){let t=ke(0,"M");return t.addData(n),t.make(),t.createDataURL(6,4)}var Kt=class extends N{static properties={hass:{attribute:!1},dict:{attribute:!1},grant:{attribute:!1},link:{attribute:!1},error:{attribute:!1},_copied:{state:!0}};_t(t,e){return L(this.dict,t,e)}_url(){let t=this.link?.url??"";return t.startsWith("/")?new URL(t,window.location.origin).href:t}async _copy(){this._copied=await $t(this._url(),this.renderRoot.querySelector(".url"))}async _share(){try{await navigator.share({title:this.grant.label,text:this._t("link_share_text",{label:this.grant.label}),url:this._url()})}catch{}}_close(){this.dispatchEvent(new CustomEvent("closed",{bubbles:!0,composed:!0}))}render(){let t=this._url(),e=typeof navigator.share=="function";return h`<div class="overlay">
      <div class="dialog link-dialog" role="dialog" aria-modal="true">
        <h2>${this._t("link_title",{label:this.grant.label})}</h2>
        ${this.error?h`<p class="error" role="alert">${this.error}</p>`:this.link?h`
              <img class="qr" src=${qe(t)} alt="QR" />
              <p class="muted">${this._t("link_scan")}</p>
              <input class="url" readonly .value=${t} aria-label=${this._t("guest_link")} />
              ${this.link.expires?h`<p class="muted">${this._t("link_expires",{when:W(H(this.hass),this.link.expires)})}</p>`:y}
              <div class="buttons">
                <button class="copy" @click=${this._copy}>${this._copied?this._t("copied"):this._t("copy")}</button>
                ${e?h`<button class="share" @click=${this._share}>${this._t("share")}</button>`:y}
              </div>`:h`<p class="muted">${this._t("loading")}</p>`}
        <div class="buttons"><button class="primary" @click=${this._close}>${this._t("close")}</button></div>
      </div>
    </div>`}static styles=[R,M`
      .qr {
        display: block;
        margin: 0 auto;
        width: min(240px, 70vw);
        image-rendering: pixelated;
        background: #fff;
      }
      .url {
        width: 100%;
      }
    `]};customElements.get("concierge-link-dialog")||customElements.define("concierge-link-dialog",Kt);var zt=class extends N{static properties={hass:{attribute:!1},site:{attribute:!1},dict:{attribute:!1},_visits:{state:!0},_error:{state:!0},_audit:{state:!0},_exportError:{state:!0},_picture:{state:!0}};constructor(){super(),this._picture=null,this._onKey=t=>{t.key==="Escape"&&this._picture&&(this._picture=null)}}connectedCallback(){super.connectedCallback(),window.addEventListener("keydown",this._onKey)}disconnectedCallback(){super.disconnectedCallback(),window.removeEventListener("keydown",this._onKey)}updated(t){t.has("_picture")&&this._picture&&this.renderRoot.querySelector(".picture-dialog .close")?.focus()}_t(t,e){return L(this.dict,t,e)}willUpdate(t){t.has("site")&&this.site&&this.site.site_id!==this._loadedFor&&(this._loadedFor=this.site.site_id,this._visits=void 0,this._audit=null,this._load())}async _load(){let t=this.site.site_id;try{let{visits:e}=await S.visits(this.hass,t);t===this._loadedFor&&(this._visits=e)}catch(e){this._error=P(e)}}async _verify(){let t=this.site.site_id;this._audit={busy:!0};try{let e=await S.verifyAudit(this.hass,t);t===this._loadedFor&&(this._audit=e)}catch(e){t===this._loadedFor&&(this._audit={error:P(e)})}}async _export(t){this._exportError="";try{let{bundle:e}=await S.exportVisit(this.hass,this.site.site_id,t.visit_id),i=new Blob([JSON.stringify(e,null,2)],{type:"application/json"}),r=URL.createObjectURL(i),s=document.createElement("a");s.href=r,s.download=`concierge-visit-${t.visit_id}.json`,document.body.appendChild(s),s.click(),s.remove(),setTimeout(()=>URL.revokeObjectURL(r),6e4)}catch(e){this._exportError=this._t("error",{message:P(e)})}}_renderAudit(){let t=this._audit;return h`<div class="audit">
      <button class="verify" ?disabled=${t?.busy} @click=${this._verify}>${this._t("audit_verify")}</button>
      ${!t||t.busy?y:t.error?h`<span class="error" role="alert">${this._t("error",{message:t.error})}</span>`:t.ok?h`<span class="audit-result ok" role="status">✓ ${this._t("audit_ok",{records:t.records})}</span>`:h`<span class="audit-result error" role="alert">✗ ${this._t("audit_problem",{problem:U(this.dict,"audit",t.problem),records:t.records})}</span>`}
    </div>
    ${this._exportError?h`<p class="error" role="alert">${this._exportError}</p>`:y}`}_door(t){return this.site?.portals.find(e=>e.id===t)?.name??t}render(){if(this._error)return h`<p class="error" role="alert">${this._t("error",{message:this._error})}</p>`;if(this._visits===void 0)return h`<p class="muted">${this._t("loading")}</p>`;if(!this._visits.length)return h`${this._renderAudit()}<p class="empty">${this._t("no_visits")}</p>`;let t=H(this.hass);return h`${this._renderAudit()}<ul class="visits">${this._visits.map(e=>h`<li class="visit" data-visit=${e.visit_id}>
        <div class="head">
          <strong>${e.label}</strong> · ${this._door(e.portal)} ·
          ${W(t,e.started)}${e.ended?` – ${yt(t,e.ended)}`:""}
          <span class="outcome ${e.outcome}">${U(this.dict,"outcome",e.outcome)}</span>
          <button class="export" @click=${()=>this._export(e)}>${this._t("export")}</button>
        </div>
        ${e.evidence?.length?h`<div class="evidence">${e.evidence.filter(i=>i.url).map(i=>i.kind==="snapshot"?h`<button class="thumb" title=${this._t("evidence_show")} aria-label=${this._t("evidence_show")}
                    @click=${()=>this._picture={visit:e,evidence:i}}><img loading="lazy" src=${i.url} alt=${i.ref} /></button>`:h`<a href=${i.url} target="_blank" rel="noopener">▶ ${i.ref}</a>`)}</div>`:y}
      </li>`)}</ul>${this._renderPicture()}`}_renderPicture(){let t=this._picture;if(!t)return y;let e=()=>this._picture=null,i=this._t("evidence_title",{label:t.visit.label});return h`<div class="overlay" @click=${r=>r.target===r.currentTarget&&e()}>
      <div class="dialog picture-dialog" role="dialog" aria-modal="true" aria-label=${i}>
        <h2>${i}</h2>
        <img class="full" src=${t.evidence.url} alt=${t.evidence.ref} />
        <div class="buttons">
          <a class="original" href=${t.evidence.url} target="_blank" rel="noopener">${this._t("evidence_open")}</a>
          <button class="primary close" @click=${e}>${this._t("close")}</button>
        </div>
      </div>
    </div>`}static styles=[R,M`
      .audit {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .audit-result.ok {
        color: var(--success-color, #43a047);
      }
      .export {
        float: right;
        margin-left: 8px;
        padding: 2px 10px;
        min-height: 30px;
      }
      .visits {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      .visit {
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
        padding: 10px 12px;
      }
      .outcome {
        margin-left: 6px;
        padding: 1px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
      }
      .evidence {
        display: flex;
        gap: 6px;
        flex-wrap: wrap;
        margin-top: 6px;
      }
      .evidence img {
        height: 72px;
        border-radius: 6px;
        display: block;
      }
      .thumb {
        padding: 0;
        border: none;
        background: none;
        min-height: 0;
        border-radius: 6px;
      }
      .thumb:focus-visible {
        outline: 2px solid var(--primary-color, #03a9f4);
      }
      .picture-dialog {
        width: min(1024px, calc(100vw - 16px));
        padding: 12px;
      }
      .picture-dialog h2 {
        font-size: 16px;
      }
      img.full {
        display: block;
        max-width: 100%;
        max-height: calc(100vh - 160px);
        margin: 0 auto;
        object-fit: contain;
        border-radius: 6px;
      }
      .picture-dialog .buttons {
        align-items: center;
      }
      .original {
        margin-right: auto;
        color: var(--primary-color, #03a9f4);
      }
    `]};customElements.get("concierge-visits")||customElements.define("concierge-visits",zt);var Ht=class extends N{static properties={hass:{attribute:!1},dict:{attribute:!1},siteId:{attribute:!1},carrier:{attribute:!1},_busy:{state:!0},_error:{state:!0}};constructor(){super(),this.carrier=null,this._busy=!1,this._error="",this._onKey=t=>{t.key==="Escape"&&this._close()}}connectedCallback(){super.connectedCallback(),window.addEventListener("keydown",this._onKey)}disconnectedCallback(){super.disconnectedCallback(),window.removeEventListener("keydown",this._onKey)}firstUpdated(){this.renderRoot.querySelector("input, textarea")?.focus()}_t(t,e){return L(this.dict,t,e)}_close(){this.dispatchEvent(new CustomEvent("closed",{bubbles:!0,composed:!0}))}async _save(t){t.preventDefault();let e=new FormData(t.target),i=s=>String(e.get(s)??"").trim(),r={public_key:i("public_key")};i("kid")&&(r.kid=i("kid")),this._busy=!0,this._error="";try{let s;this.carrier?(i("retire_kid")&&(r.retire_kid=i("retire_kid")),s=await S.rotateKey(this.hass,this.siteId,this.carrier.id,r)):s=await S.addCarrier(this.hass,this.siteId,{name:i("name"),carrier_id:i("carrier_id"),...r}),this.dispatchEvent(new CustomEvent("carrier-saved",{detail:s.carrier,bubbles:!0,composed:!0})),this._close()}catch(s){this._error=P(s)}finally{this._busy=!1}}_field(t,e,i){return h`<label class="field">
      <span>${t}</span>
      ${i}
      ${e?h`<small class="muted">${e}</small>`:y}
    </label>`}render(){let t=!!this.carrier,e=t?this._t("carrier_title_rotate",{name:this.carrier.name}):this._t("carrier_title_add");return h`<div class="overlay" @click=${i=>i.target===i.currentTarget&&this._close()}>
      <form class="dialog carrier-dialog" role="dialog" aria-modal="true" aria-label=${e} @submit=${this._save}>
        <h2>${e}</h2>
        ${t?h`<p class="muted">${this._t("carrier_rotate_hint")}</p>`:h`
            ${this._field(this._t("carrier_name"),"",h`<input name="name" required maxlength="64" autocomplete="off" />`)}
            ${this._field(this._t("carrier_id"),this._t("carrier_id_hint"),h`<input name="carrier_id" required autocomplete="off" spellcheck="false" />`)}`}
        ${this._field(this._t("carrier_kid"),this._t("carrier_kid_hint"),h`<input name="kid" maxlength="128" autocomplete="off" spellcheck="false" />`)}
        ${this._field(this._t("carrier_key"),this._t("carrier_key_hint"),h`<textarea name="public_key" rows="5" required spellcheck="false" autocomplete="off"
            placeholder="-----BEGIN PUBLIC KEY-----"></textarea>`)}
        ${t&&this.carrier.keys?.length?this._field(this._t("carrier_retire"),"",h`<select name="retire_kid">
              <option value="">${this._t("carrier_retire_none")}</option>
              ${this.carrier.keys.map(i=>h`<option value=${i.kid}>${i.kid}</option>`)}
            </select>`):y}
        ${this._error?h`<p class="error" role="alert">${this._error}</p>`:y}
        <div class="buttons">
          <button type="button" class="cancel" @click=${this._close}>${this._t("cancel")}</button>
          <button type="submit" class="primary save" ?disabled=${this._busy}>${this._t("save")}</button>
        </div>
      </form>
    </div>`}static styles=[R,M`
      .field {
        display: flex;
        flex-direction: column;
        gap: 4px;
        margin-bottom: 12px;
      }
      .field > span {
        font-weight: 500;
      }
      .field input, .field select, textarea {
        width: 100%;
        min-width: 0;
      }
      textarea {
        box-sizing: border-box;
        font-family: monospace;
        font-size: 12px;
        padding: 6px 8px;
        border: 1px solid var(--divider-color, #ccc);
        border-radius: 6px;
        background: var(--card-background-color, #fff);
        color: var(--primary-text-color, #212121);
        resize: vertical;
      }
      small {
        overflow-wrap: anywhere;
      }
      .error {
        overflow-wrap: anywhere;
      }
    `]};customElements.get("concierge-carrier-dialog")||customElements.define("concierge-carrier-dialog",Ht);var Wt=class extends N{static properties={hass:{attribute:!1},site:{attribute:!1},dict:{attribute:!1},grants:{attribute:!1},_carriers:{state:!0},_error:{state:!0},_token:{state:!0},_checking:{state:!0},_answer:{state:!0},_checkError:{state:!0},_dialog:{state:!0}};constructor(){super(),this._token="",this._checking=!1,this._answer=null,this._checkError="",this._dialog=null}_t(t,e){return L(this.dict,t,e)}willUpdate(t){t.has("site")&&this.site&&this.site.site_id!==this._loadedFor&&(this._loadedFor=this.site.site_id,this._carriers=void 0,this._answer=null,this._load())}async _load(){let t=this.site.site_id;try{let{carriers:e}=await S.carriers(this.hass,t);t===this._loadedFor&&(this._carriers=e)}catch(e){this._error=P(e)}}_changed(){this._load(),this.dispatchEvent(new CustomEvent("carriers-changed",{bubbles:!0,composed:!0}))}async _retire(){let{carrier:t,kid:e}=this._dialog;this._dialog={...this._dialog,busy:!0,error:""};try{await S.retireKey(this.hass,this.site.site_id,t.id,e),this._dialog=null,this._changed()}catch(i){this._dialog={...this._dialog,busy:!1,error:P(i)}}}_renderDialog(){let t=this._dialog;if(!t)return y;let e=()=>this._dialog=null;return t.type==="carrier"?h`<concierge-carrier-dialog .hass=${this.hass} .dict=${this.dict} .siteId=${this.site.site_id}
        .carrier=${t.carrier} @closed=${e} @carrier-saved=${this._changed}></concierge-carrier-dialog>`:h`<div class="overlay" @click=${i=>i.target===i.currentTarget&&e()}>
      <div class="dialog confirm" role="alertdialog" aria-modal="true">
        <h2>${this._t("retire_key")}</h2>
        <p>${this._t("confirm_retire_key",{kid:t.kid,name:t.carrier.name})}</p>
        ${t.error?h`<p class="error" role="alert">${t.error}</p>`:y}
        <div class="buttons">
          <button @click=${e}>${this._t("cancel")}</button>
          <button class="primary danger ok" ?disabled=${t.busy} @click=${this._retire}>${this._t("retire_key")}</button>
        </div>
      </div>
    </div>`}async _check(t){t.preventDefault();let e=this._token.trim();if(e){this._checking=!0,this._answer=null,this._checkError="";try{this._answer=await S.checkToken(this.hass,this.site.site_id,e)}catch(i){this._checkError=P(i)}finally{this._checking=!1}}}_door(t){return this.site?.portals.find(e=>e.id===t)?.name??t}_grantLabel(t){return this.grants?.get(t)?.label??t}_renderCarriers(){return this._error?h`<p class="error" role="alert">${this._t("error",{message:this._error})}</p>`:this._carriers===void 0?h`<p class="muted">${this._t("loading")}</p>`:this._carriers.length?h`<ul class="carriers">${this._carriers.map(t=>h`<li class="carrier" data-carrier=${t.id}>
      <div class="head">
        <strong>${t.name}</strong> <code class="muted">${t.id}</code>
        <button class="rotate" @click=${()=>this._dialog={type:"carrier",carrier:t}}>${this._t("rotate_key")}</button>
      </div>
      ${t.keys?.length?h`<table class="keys">
            <thead><tr><th>${this._t("key_kid")}</th><th>${this._t("key_alg")}</th><th>${this._t("key_fingerprint")}</th><th></th></tr></thead>
            <tbody>${t.keys.map(e=>h`<tr class="key" data-kid=${e.kid}>
              <td data-title=${this._t("key_kid")}>${e.kid}</td><td data-title=${this._t("key_alg")}>${e.alg}</td>
              <td data-title=${this._t("key_fingerprint")}><code>${e.fingerprint}</code></td>
              <td class="retire">${t.keys.length>1?h`<button class="danger" @click=${()=>this._dialog={type:"retire",carrier:t,kid:e.kid}}>${this._t("retire_key")}</button>`:y}</td></tr>`)}</tbody>
          </table>`:h`<p class="muted">${this._t("no_keys")}</p>`}
    </li>`)}</ul>`:h`<p class="empty">${this._t("no_carriers")}</p>`}_renderAnswer(){let t=this._answer;if(!t)return y;let e=t.answer?.status===200&&!t.answer?.error;return h`<div class="answer ${e?"opens":"refused"}" role="status">
      <strong>${e?this._t("check_would_open"):this._t("check_refused")}</strong>
      <span class="muted">(${this._t("check_status",{status:t.answer?.status??"?"})})</span>
      ${t.reason?h`<p class="reason">${t.reason}</p>`:y}
      ${t.grant_id?h`<p>${this._t("check_grant",{label:this._grantLabel(t.grant_id)})}</p>`:y}
      ${t.portal?h`<p>${this._t("check_door",{door:this._door(t.portal)})}</p>`:y}
      <p class="nothing-opened"><strong>${this._t("check_nothing_opened")}</strong></p>
      ${e?h`<p class="muted">${this._t("check_limits")}</p>`:y}
    </div>`}render(){return h`
      <div class="title">
        <h2>${this._t("tab_carriers")}</h2>
        <button class="primary add" @click=${()=>this._dialog={type:"carrier",carrier:null}}>+ ${this._t("add_carrier")}</button>
      </div>
      ${this._renderCarriers()}
      <form class="check" @submit=${this._check}>
        <h2>${this._t("check_title")}</h2>
        <p class="muted">${this._t("check_hint")}</p>
        <textarea name="token" rows="3" spellcheck="false" autocomplete="off" aria-label=${this._t("check_token")}
          placeholder=${this._t("check_token")} .value=${this._token}
          @input=${t=>this._token=t.target.value}></textarea>
        <div class="buttons">
          <button type="submit" class="primary" ?disabled=${this._checking||!this._token.trim()}>${this._t("check_run")}</button>
        </div>
        ${this._checkError?h`<p class="error" role="alert">${this._checkError}</p>`:y}
        ${this._renderAnswer()}
      </form>
      ${this._renderDialog()}
    `}static styles=[R,M`
      h2 {
        font-size: 18px;
        font-weight: 500;
        margin: 8px 0;
      }
      .title, .head {
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
      }
      .title h2 {
        flex: 1 1 auto;
      }
      .head code {
        overflow-wrap: anywhere;
      }
      .head .rotate {
        margin-left: auto;
      }
      td.retire {
        text-align: right;
      }
      td.retire button {
        padding: 2px 10px;
        min-height: 30px;
      }
      .carriers {
        list-style: none;
        padding: 0;
        margin: 0 0 16px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      .carrier, .check {
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
        padding: 10px 12px;
      }
      table.keys {
        width: 100%;
        border-collapse: collapse;
        margin-top: 6px;
      }
      th, td {
        text-align: left;
        padding: 4px 8px;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
        overflow-wrap: anywhere;
      }
      th {
        font-weight: 500;
        color: var(--secondary-text-color, #727272);
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        font-family: monospace;
        font-size: 13px;
        padding: 6px 8px;
        border: 1px solid var(--divider-color, #ccc);
        border-radius: 6px;
        background: var(--card-background-color, #fff);
        color: var(--primary-text-color, #212121);
      }
      .answer {
        margin-top: 12px;
        padding: 8px 12px;
        border-left: 4px solid var(--error-color, #db4437);
        background: var(--secondary-background-color, #f5f5f5);
      }
      .answer.opens {
        border-left-color: var(--success-color, #43a047);
      }
      .answer p {
        margin: 4px 0;
      }
      @media (max-width: 760px) {
        table.keys thead {
          display: none;
        }
        table.keys tr, table.keys td {
          display: block;
        }
        table.keys td.retire {
          text-align: left;
        }
        table.keys td.retire:empty {
          display: none;
        }
        table.keys td[data-title]::before {
          content: attr(data-title) ": ";
          color: var(--secondary-text-color, #727272);
        }
      }
    `]};customElements.get("concierge-carriers")||customElements.define("concierge-carriers",Wt);var jt=class extends N{static properties={hass:{attribute:!1},dict:{attribute:!1},siteId:{attribute:!1},grant:{attribute:!1},_links:{state:!0},_error:{state:!0},_confirming:{state:!0},_busy:{state:!0}};constructor(){super(),this._links=void 0,this._error="",this._confirming=null,this._busy=!1}_t(t,e){return L(this.dict,t,e)}firstUpdated(){this._load()}async _load(){try{let{links:t}=await S.guestLinks(this.hass,this.siteId,this.grant.grant_id);this._links=t}catch(t){this._error=P(t)}}_stateOf(t){return t.revoked?"revoked":t.expires&&new Date(t.expires).getTime()<=Date.now()?"expired":"active"}async _revoke(){let t=this._confirming;this._busy=!0,this._error="";try{await S.revokeGuestLink(this.hass,this.siteId,t.link_id),this._confirming=null,await this._load()}catch(e){this._error=P(e)}finally{this._busy=!1}}_close(){this.dispatchEvent(new CustomEvent("closed",{bubbles:!0,composed:!0}))}_renderList(t){return this._links===void 0?this._error?y:h`<p class="muted">${this._t("loading")}</p>`:this._links.length?h`<ul class="links">${this._links.map(e=>{let i=this._stateOf(e);return h`<li class="link ${i}" data-link=${e.link_id}>
        <span>${this._t("link_until",{when:W(t,e.expires)})}</span>
        <span class="state ${i}">${this._t(`link_state_${i}`)}</span>
        ${i==="active"?h`<button class="danger" @click=${()=>this._confirming=e}>${this._t("revoke")}</button>`:y}
      </li>`})}</ul>`:h`<p class="empty">${this._t("no_links")}</p>`}render(){let t=H(this.hass),e=this._confirming;return h`<div class="overlay" @click=${i=>i.target===i.currentTarget&&this._close()}>
      <div class="dialog guest-links" role="dialog" aria-modal="true">
        <h2>${this._t("links_title",{label:this.grant.label})}</h2>
        ${this._error?h`<p class="error" role="alert">${this._error}</p>`:y}
        ${e?h`<div class="confirm" role="alertdialog">
              <p>${this._t("confirm_revoke_link",{when:W(t,e.expires)})}</p>
              <div class="buttons">
                <button @click=${()=>this._confirming=null}>${this._t("cancel")}</button>
                <button class="primary danger ok" ?disabled=${this._busy} @click=${this._revoke}>${this._t("revoke")}</button>
              </div>
            </div>`:this._renderList(t)}
        <div class="buttons"><button class="primary close" @click=${this._close}>${this._t("close")}</button></div>
      </div>
    </div>`}static styles=[R,M`
      .links {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      .link {
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
        padding: 6px 0;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
      }
      .link > span:first-child {
        flex: 1 1 auto;
      }
      .state {
        padding: 1px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
      }
      .state.active {
        background: var(--success-color, #43a047);
        color: #fff;
      }
      .link.revoked, .link.expired {
        color: var(--secondary-text-color, #727272);
      }
    `]};customElements.get("concierge-guest-links-dialog")||customElements.define("concierge-guest-links-dialog",jt);var Gt={active:0,scheduled:1,suspended:2,used_up:3,expired:4,revoked:5},Ve=new Set(["revoked","expired","used_up"]),Ft=class extends N{static properties={hass:{attribute:!1},narrow:{type:Boolean},panel:{attribute:!1},_sites:{state:!0},_siteId:{state:!0},_grants:{state:!0},_search:{state:!0},_stateFilter:{state:!0},_tab:{state:!0},_dialog:{state:!0},_error:{state:!0}};constructor(){super(),this._sites=void 0,this._siteId=void 0,this._grants=void 0,this._search="",this._stateFilter="",this._tab="grants",this._dialog=null,this._error="",this._unsubscribe=null,this._subscribedTo=null,this._lastLanguage=void 0}get _dict(){return _e(this.hass?.language)}_t(t,e){return L(this._dict,t,e)}connectedCallback(){super.connectedCallback(),this.hass&&this._sites&&this._subscribe()}disconnectedCallback(){super.disconnectedCallback(),this._unsubscribeNow()}willUpdate(t){t.has("hass")&&this.hass&&this._sites===void 0&&(this._sites=null,this._loadSites())}async _loadSites(){try{let{sites:t}=await S.sites(this.hass);this._sites=t,t.length&&!t.some(e=>e.site_id===this._siteId)&&(this._siteId=t[0].site_id),this._subscribe()}catch(t){this._sites=[],this._error=P(t)}}async _subscribe(){if(!this._siteId||this._subscribedTo===this._siteId)return;this._unsubscribeNow(),this._grants=void 0;let t=this._siteId;this._subscribedTo=t;try{let e=await S.subscribeGrants(this.hass,t,i=>this._onGrants(t,i));this._subscribedTo!==t?e():this._unsubscribe=e}catch(e){this._subscribedTo=null,this._error=P(e)}}_unsubscribeNow(){if(this._unsubscribe){let t=this._unsubscribe;this._unsubscribe=null,Promise.resolve(t()).catch(()=>{})}this._subscribedTo=null}_onGrants(t,e){if(t!==this._siteId)return;let i=new Map(this._grants||[]);for(let r of e.grants||[])i.set(r.grant_id,r);for(let r of e.removed||[])i.delete(r);this._grants=i}get _site(){return(this._sites||[]).find(t=>t.site_id===this._siteId)}_doorName(t){return this._site?.portals.find(e=>e.id===t)?.name??t}_windowText(t,e,i){let r=e.current_or_next;return r?new Date(r.start).getTime()<=i?this._t("now_until",{end:W(t,r.end)}):this._t("next",{start:W(t,r.start),end:yt(t,r.end)}):this._t("no_window")}_weeklyText(t){let e=t.window;if(!e||e.kind!=="weekly")return"";let i=ht.filter(r=>(e.weekdays||[]).includes(r)).map(r=>this._t(`wd_${r}`));return this._t("weekly_every",{days:i.join(", "),start:e.start_time,end:e.end_time})}_visibleGrants(){let t=this._dict,e=this._search.trim().toLowerCase(),i=[...this._grants?.values()||[]].filter(s=>this._stateFilter&&s.state!==this._stateFilter?!1:e?[s.label,s.kind,U(t,"kind",s.kind),U(t,"state",s.state),...s.portals.map(a=>this._doorName(a))].join(" ").toLowerCase().includes(e):!0),r=s=>s.current_or_next?new Date(s.current_or_next.start).getTime():1/0;return i.sort((s,o)=>(Gt[s.state]??9)-(Gt[o.state]??9)||r(s)-r(o)||s.label.localeCompare(o.label)),i}render(){return this.hass?h`
      <div class="toolbar">
        <h1>${this._t("title")}</h1>
        <nav>
          <button class=${this._tab==="grants"?"tab on":"tab"} @click=${()=>this._tab="grants"}>
            ${this._t("tab_grants")}
          </button>
          <button class=${this._tab==="visits"?"tab on":"tab"} @click=${()=>this._tab="visits"}>
            ${this._t("tab_visits")}
          </button>
          <button class=${this._tab==="carriers"?"tab on":"tab"} @click=${()=>this._tab="carriers"}>
            ${this._t("tab_carriers")}
          </button>
        </nav>
        ${(this._sites||[]).length>1?h`<label class="site">${this._t("site")}
              <select @change=${this._pickSite}>
                ${this._sites.map(t=>h`<option value=${t.site_id} ?selected=${t.site_id===this._siteId}>${t.name}</option>`)}
              </select></label>`:y}
      </div>
      <div class="content">
        ${this._error?h`<p class="error" role="alert">${this._t("error",{message:this._error})}</p>`:y}
        ${this._sites===null||this._sites===void 0?h`<p class="muted">${this._t("loading")}</p>`:this._sites.length?this._renderTab():h`<p>${this._t("no_sites")}</p>`}
      </div>
      ${this._renderDialog()}
    `:y}_renderTab(){return this._tab==="grants"?this._renderGrants():this._tab==="visits"?h`<concierge-visits .hass=${this.hass} .site=${this._site} .dict=${this._dict}></concierge-visits>`:h`<concierge-carriers .hass=${this.hass} .site=${this._site} .dict=${this._dict}
      .grants=${this._grants} @carriers-changed=${this._loadSites}></concierge-carriers>`}_pickSite(t){this._siteId=t.target.value,this._subscribe()}_renderGrants(){let t=this._dict,e=H(this.hass),i=Date.now(),r=this._grants?this._visibleGrants():[];return h`
      <div class="filters">
        <input type="search" class="search" placeholder=${this._t("search")} aria-label=${this._t("search")}
          .value=${this._search} @input=${s=>this._search=s.target.value} />
        <select aria-label=${this._t("col_state")} @change=${s=>this._stateFilter=s.target.value}>
          <option value="">${this._t("col_state")}: *</option>
          ${Object.keys(Gt).map(s=>h`<option value=${s} ?selected=${s===this._stateFilter}>${U(t,"state",s)}</option>`)}
        </select>
        <button class="primary new" @click=${()=>this._dialog={type:"grant",grant:null}}>+ ${this._t("new_grant")}</button>
      </div>
      ${this._grants===void 0?h`<p class="muted">${this._t("loading")}</p>`:this._grants.size?r.length?h`<table class="grants">
                <thead><tr>
                  <th>${this._t("col_label")}</th><th>${this._t("col_kind")}</th><th>${this._t("col_doors")}</th>
                  <th>${this._t("col_window")}</th><th>${this._t("col_state")}</th><th>${this._t("col_uses")}</th>
                  <th>${this._t("col_codes")}</th><th>${this._t("col_actions")}</th>
                </tr></thead>
                <tbody>${r.map(s=>this._renderRow(t,e,i,s))}</tbody>
              </table>`:h`<p class="empty">${this._t("no_match")}</p>`:h`<p class="empty">${this._t("no_grants")}</p>`}
    `}_renderRow(t,e,i,r){let s=Ve.has(r.state),o=this._weeklyText(r);return h`<tr class="grant" data-grant=${r.grant_id}>
      <td class="label" data-title=${this._t("col_label")}><strong>${r.label}</strong></td>
      <td data-title=${this._t("col_kind")}>${U(t,"kind",r.kind)}</td>
      <td data-title=${this._t("col_doors")}>${r.portals.map(a=>this._doorName(a)).join(", ")}</td>
      <td data-title=${this._t("col_window")}>${this._windowText(e,r,i)}${o?h`<div class="muted">${o}</div>`:y}</td>
      <td data-title=${this._t("col_state")}><span class="state ${r.state}">${U(t,"state",r.state)}</span></td>
      <td data-title=${this._t("col_uses")}>${r.uses}${r.max_uses?` / ${r.max_uses}`:""}</td>
      <td data-title=${this._t("col_codes")}><div class="codes">${Object.keys(r.codes||{}).length?Object.entries(r.codes).map(([a,l])=>h`<span class="code ${l}">${this._doorName(a)}: ${U(t,"code",l)}</span>`):"—"}</div></td>
      <td><div class="actions">
        ${s?y:h`<button @click=${()=>this._dialog={type:"grant",grant:r}}>${this._t("edit")}</button>`}
        ${r.state==="suspended"?h`<button @click=${()=>this._confirm("resume",r)}>${this._t("resume")}</button>`:s?y:h`<button @click=${()=>this._confirm("suspend",r)}>${this._t("suspend")}</button>`}
        ${r.guest_link&&!s?h`<button @click=${()=>this._guestLink(r)}>${this._t("guest_link")}</button>`:y}
        ${r.guest_link&&!s?h`<button class="links" @click=${()=>this._dialog={type:"links",grant:r}}>${this._t("guest_links")}</button>`:y}
        ${r.state==="revoked"?y:h`<button class="danger" @click=${()=>this._confirm("revoke",r)}>${this._t("revoke")}</button>`}
      </div></td>
    </tr>`}_confirm(t,e){this._dialog={type:"confirm",action:t,grant:e,busy:!1,error:""}}async _runConfirmed(){let{action:t,grant:e}=this._dialog;this._dialog={...this._dialog,busy:!0,error:""};try{await S.grantAction(this.hass,this._siteId,t,e.grant_id),this._dialog=null}catch(i){this._dialog={...this._dialog,busy:!1,error:P(i)}}}async _guestLink(t){this._dialog={type:"link",grant:t,link:null,error:""};try{let e=await S.createGuestLink(this.hass,this._siteId,t.grant_id);this._dialog?.grant===t&&(this._dialog={...this._dialog,link:e})}catch(e){this._dialog?.grant===t&&(this._dialog={...this._dialog,error:P(e)})}}_renderDialog(){let t=this._dialog;if(!t)return y;let e=()=>this._dialog=null;if(t.type==="grant")return h`<concierge-grant-dialog .hass=${this.hass} .dict=${this._dict} .site=${this._site}
        .grant=${t.grant} @closed=${e}></concierge-grant-dialog>`;if(t.type==="link")return h`<concierge-link-dialog .hass=${this.hass} .dict=${this._dict} .grant=${t.grant}
        .link=${t.link} .error=${t.error} @closed=${e}></concierge-link-dialog>`;if(t.type==="links")return h`<concierge-guest-links-dialog .hass=${this.hass} .dict=${this._dict} .siteId=${this._siteId}
        .grant=${t.grant} @closed=${e}></concierge-guest-links-dialog>`;let i=t.action==="revoke";return h`<div class="overlay" @click=${r=>r.target===r.currentTarget&&e()}>
      <div class="dialog confirm" role="alertdialog" aria-modal="true">
        <h2>${this._t(t.action)}</h2>
        <p>${this._t(`confirm_${t.action}`,{label:t.grant.label})}</p>
        ${t.error?h`<p class="error" role="alert">${t.error}</p>`:y}
        <div class="buttons">
          <button @click=${e}>${this._t("cancel")}</button>
          <button class=${i?"primary danger ok":"primary ok"} ?disabled=${t.busy} @click=${this._runConfirmed}>
            ${this._t(t.action)}
          </button>
        </div>
      </div>
    </div>`}static styles=[R,fe]};customElements.get("concierge-panel")||customElements.define("concierge-panel",Ft);export{Ft as ConciergePanel};
/*! Bundled license information:

@lit/reactive-element/css-tag.js:
  (**
   * @license
   * Copyright 2019 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

@lit/reactive-element/reactive-element.js:
lit-html/lit-html.js:
lit-element/lit-element.js:
  (**
   * @license
   * Copyright 2017 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/is-server.js:
  (**
   * @license
   * Copyright 2022 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/
